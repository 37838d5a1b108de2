using Chroma.Server.Storage;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Answers a call the database could not serve (PostgreSQL down or restarting, a lost connection) with
/// <c>Unavailable</c> and a message saying so, instead of <c>Unknown</c>: the client knows to retry, and nothing was
/// changed. A statement that ran past its command timeout is told apart (the database is up, but answered nothing in
/// time: overloaded, or a lock another session holds, such as a stalled replica's open transaction) and logged, at most
/// once every 10 s (before, such a call read "the database is unavailable" and the server logged nothing: probe I, F2).
/// Faults that are not outages pass through as they are.
/// </summary>
internal sealed partial class StorageOutageInterceptor(ILogger<StorageOutageInterceptor> logger, TimeProvider time) : Interceptor
{
    private static readonly TimeSpan LogEvery = TimeSpan.FromSeconds(10);
    private long _lastLoggedTicks;
    private long _unlogged;

    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageOutage.Is(ex))
        {
            throw Unavailable(ex, context);
        }
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageOutage.Is(ex))
        {
            throw Unavailable(ex, context);
        }
    }

    private RpcException Unavailable(Exception exception, ServerCallContext context)
    {
        if (!StorageOutage.IsTimeout(exception))
        {
            return new(new Status(StatusCode.Unavailable, "the database is unavailable (the server keeps running and recovers when it is back); retry later"));
        }

        var now = time.GetUtcNow().UtcTicks;
        var last = Interlocked.Read(ref _lastLoggedTicks);
        if ((last == 0 || now - last >= LogEvery.Ticks) && Interlocked.CompareExchange(ref _lastLoggedTicks, now, last) == last)
        {
            StatementTimedOut(logger, exception, context.Method, Interlocked.Exchange(ref _unlogged, 0));
        }
        else
        {
            Interlocked.Increment(ref _unlogged);
        }

        return new(new Status(
            StatusCode.Unavailable,
            "the database did not answer in time (a statement ran past its command timeout: the database may be overloaded, or another session holds a lock this call needs, such as a stalled replica's open transaction); nothing was changed; retry later"));
    }

    [LoggerMessage(EventId = 109, Level = LogLevel.Warning,
        Message = "{Method} was answered Unavailable: a database statement ran past its command timeout (the database is overloaded, or another session holds a lock it needs, such as a stalled replica's open transaction; PostgreSQL's pg_stat_activity shows it); {Unlogged} more such calls since the last of these warnings")]
    private static partial void StatementTimedOut(ILogger logger, Exception exception, string method, long unlogged);
}
