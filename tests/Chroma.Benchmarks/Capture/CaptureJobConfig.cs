using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// Short in-process jobs with a fixed number of calls per iteration: each iteration's captured rows must fit the
/// client's queue, and the iteration cleanup drains it, so every measured call takes the real enqueue path (never
/// the cheaper drop-when-full path). The calls per iteration also bound how many records wait in the queue at once.
/// </summary>
internal class CaptureJobConfig : ManualConfig
{
    public CaptureJobConfig(params (string Id, int CallsPerIteration)[] jobs)
    {
        foreach (var (id, calls) in jobs)
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(5)
                .WithIterationCount(20)
                .WithInvocationCount(calls)
                .WithUnrollFactor(1)
                .WithId(id));
        }

        AddDiagnoser(MemoryDiagnoser.Default);
        WithOptions(ConfigOptions.DisableLogFile);
    }
}
