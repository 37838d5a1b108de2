using Chroma.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Chroma.Transport;

/// <summary>Builds the Polly pipeline around each step of the background sender (never around the caller's code).</summary>
internal static class RetryPipelineFactory
{
    /// <summary>How often at most the start of an outage is logged at Warning (a flapping link would repeat it).</summary>
    public static readonly TimeSpan OutageWarningInterval = TimeSpan.FromMinutes(1);

    /// <param name="options">Delays and jitter.</param>
    /// <param name="time">The clock of the delays.</param>
    /// <param name="logger">Where the outage warning goes.</param>
    /// <param name="endpoint">The address (or addresses) the warning names, so that a mistyped or defaulted one shows.</param>
    public static ResiliencePipeline Create(ChromaRetryOptions options, TimeProvider time, ILogger logger, string endpoint)
    {
        var lastWarning = long.MinValue;
        return new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RpcException>(TransientFaults.IsTransient),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = options.UseJitter,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = args =>
                {
                    var rpc = args.Outcome.Exception as RpcException;
                    var status = rpc?.StatusCode ?? StatusCode.Unknown;
                    var now = time.GetTimestamp();
                    var previous = Interlocked.Read(ref lastWarning);
                    if (args.AttemptNumber == 0
                        && (previous == long.MinValue || time.GetElapsedTime(previous, now) >= OutageWarningInterval)
                        && Interlocked.CompareExchange(ref lastWarning, now, previous) == previous)
                    {
                        // The first failure of an outage is said once at Warning, without a stack trace; the retries after
                        // it (every one until the server answers) at Debug.
                        ChromaClientLog.ServerUnreachable(logger, endpoint, status, Detail(rpc, args.Outcome.Exception), options.MaxDelay.TotalSeconds);
                    }

                    ChromaClientLog.StreamRetry(logger, status, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>
    /// What the warning says after the status code: the server's words, or what an empty detail means. A call that never
    /// reached a server (the transport's own Unavailable, which carries a debug exception) also names the cause, as
    /// queries do (<see cref="ChromaException"/>): "Error connecting to subchannel." alone hid an unknown host.
    /// </summary>
    internal static string Detail(RpcException? rpc, Exception? exception) => TlsHint(rpc, rpc switch
    {
        { StatusCode: StatusCode.Unavailable, Status.DebugException: { } transport, Status.Detail: var detail }
            when transport.GetBaseException().Message is { Length: > 0 } cause && !(detail ?? string.Empty).Contains(cause, StringComparison.Ordinal)
            => string.IsNullOrEmpty(detail) ? cause : $"{cause}; {detail}",
        { Status.Detail: { Length: > 0 } detail } => detail,
        { StatusCode: StatusCode.Cancelled } => "the stream was torn down before the server sent a status",
        { } => "no detail from the server",
        null => exception?.Message ?? "no answer",
    });

    // A failed TLS handshake is retried like an outage (a certificate may be replaced), but the fix is most often on this
    // side: trust the root (ChromaClientOptions.TrustedRootCertificate), or the endpoint's scheme does not match the server
    // (probe L: an https:// endpoint on a server without TLS; probe Q, Q6: http:// on a server with one).
    private static string TlsHint(RpcException? rpc, string detail)
    {
        if (rpc is null)
        {
            return TlsHandshake.Failed(detail) ? $"{detail} ({TlsHandshake.Hint(detail)})" : detail;
        }

        return TlsHandshake.Failed(rpc) ? $"{detail} ({TlsHandshake.Hint(TlsHandshake.Reason(rpc))})"
            : TlsHandshake.PlainTextToTls(rpc) ? $"{detail} ({TlsHandshake.PlainTextHint})"
            : detail;
    }
}
