using BenchmarkDotNet.Running;

namespace Chroma.Benchmarks.Capture;

/// <summary>
/// <c>capture</c>: BenchmarkDotNet runs of the capture overhead (bare call versus captured call), e.g.
/// <c>dotnet run -c Release --project tests/Chroma.Benchmarks -- capture --filter '*'</c>.
/// </summary>
internal static class CaptureCommand
{
    private static readonly Type[] s_benchmarks = [typeof(LogProductionBenchmarks), typeof(DecoratorBenchmarks), typeof(TorchForwardBenchmarks)];

    public static int Run(string[] args)
    {
        if (args is ["--torch-probe"])
        {
            return TorchHookProbe.Run();
        }

        if (args is ["--probe", ..])
        {
            return CaptureHotPathProbe.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 1_000);
        }

        var summaries = BenchmarkSwitcher.FromTypes(s_benchmarks).Run(args);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
