using Chroma.Server.Storage;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Answers a call that failed on a fault no handler turned into a status (a bug, memory running out) with
/// <c>Internal</c> (<c>ResourceExhausted</c> when memory ran out) and a message that names the method, the kind of
/// fault and an error id, logged with the exception under that id. gRPC alone answers <c>Unknown</c>, "Exception was
/// thrown by handler.", which a caller can neither act on nor report. A status a handler chose (an
/// <see cref="RpcException"/>), a database outage (<see cref="StorageOutageInterceptor"/> answers it) and a call its
/// client cancelled pass through as they are. The message holds no exception text, which may quote stored data or
/// settings: the id leads to it in the server's log. A call whose client went away or whose deadline passed is not a
/// fault, whatever its handler threw on the way out.
/// </summary>
internal sealed partial class ServerFaultInterceptor(ILogger<ServerFaultInterceptor> logger) : Interceptor
{
    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, context))
        {
            throw Answer(ex, context);
        }
    }

    /// <inheritdoc />
    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return await continuation(requestStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, context))
        {
            throw Answer(ex, context);
        }
    }

    /// <inheritdoc />
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await continuation(request, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, context))
        {
            throw Answer(ex, context);
        }
    }

    /// <inheritdoc />
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            await continuation(requestStream, responseStream, context).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsFault(ex, context))
        {
            throw Answer(ex, context);
        }
    }

    private static bool IsFault(Exception exception, ServerCallContext context) =>
        exception is not RpcException
        && !StorageOutage.Is(exception)
        && !context.CancellationToken.IsCancellationRequested;

    private RpcException Answer(Exception exception, ServerCallContext context)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var outOfMemory = exception is OutOfMemoryException || exception.InnerException is OutOfMemoryException;
        Faulted(logger, exception, context.Method, id);
        var status = outOfMemory
            ? new Status(StatusCode.ResourceExhausted, $"the server ran out of memory answering {context.Method} (error id {id}); it keeps serving: retry later, or ask for less (smaller pages or batches); its log has the details under this id")
            : new Status(StatusCode.Internal, $"internal server error in {context.Method} ({exception.GetType().Name}, error id {id}); the server keeps serving; its log has the details under this id, please report it");
        return new RpcException(status);
    }

    [LoggerMessage(EventId = 108, Level = LogLevel.Error, Message = "{Method} failed on an unexpected fault (error id {ErrorId}); the caller was answered with this id")]
    private static partial void Faulted(ILogger logger, Exception exception, string method, string errorId);
}
