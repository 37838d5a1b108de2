using Chroma.Diagnostics;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Chroma.Transport;

/// <summary>Builds the Polly pipeline around each step of the background sender (never around the caller's code).</summary>
internal static class RetryPipelineFactory
{
    public static ResiliencePipeline Create(ChromaRetryOptions options, TimeProvider time, ILogger logger) =>
        new ResiliencePipelineBuilder { TimeProvider = time }
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
                    var status = args.Outcome.Exception is RpcException rpc ? rpc.StatusCode : StatusCode.Unknown;
                    ChromaClientLog.StreamRetry(logger, status, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception);
                    return default;
                },
            })
            .Build();
}
