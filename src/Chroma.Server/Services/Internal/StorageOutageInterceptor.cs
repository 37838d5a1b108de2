using Chroma.Server.Storage;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Answers a call the database could not serve (PostgreSQL down or restarting, a lost connection) with
/// <c>Unavailable</c> and a message saying so, instead of <c>Unknown</c>: the client knows to retry, and nothing was
/// changed. Faults that are not outages pass through as they are.
/// </summary>
internal sealed class StorageOutageInterceptor : Interceptor
{
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
            throw Unavailable();
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
            throw Unavailable();
        }
    }

    private static RpcException Unavailable() =>
        new(new Status(StatusCode.Unavailable, "the database is unavailable (the server keeps running and recovers when it is back); retry later"));
}
