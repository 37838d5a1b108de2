using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// A short in-process job with a fixed number of calls per iteration: each iteration's captured rows must fit the
/// client's queue, and the iteration cleanup drains it, so every measured call takes the real enqueue path
/// (never the cheaper drop-when-full path).
/// </summary>
internal class CaptureJobConfig : ManualConfig
{
    public CaptureJobConfig(int invocationsPerIteration)
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithInvocationCount(invocationsPerIteration)
            .WithUnrollFactor(1)
            .WithId("Short"));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
