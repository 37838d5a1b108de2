using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Chroma.Server.Services.Internal;

/// <summary>Counts every unary call into <see cref="GrpcActivity"/> (log streams pass through uncounted).</summary>
internal sealed class GrpcActivityInterceptor : Interceptor
{
    private readonly GrpcActivity _activity;

    /// <summary>Creates the interceptor over the server's activity tracker.</summary>
    public GrpcActivityInterceptor(GrpcActivity activity) => _activity = activity;

    /// <inheritdoc />
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ArgumentNullException.ThrowIfNull(continuation);
        _activity.Begin();
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        finally
        {
            _activity.End();
        }
    }
}
