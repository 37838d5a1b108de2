using Chroma.Benchmarks.Capture;
using Chroma.Benchmarks.Recommendations;

// Benchmarks and evaluation harnesses (Release builds only): dotnet run -c Release --project tests/Chroma.Benchmarks -- COMMAND ...
return args switch
{
    ["capture", .. var rest] => CaptureCommand.Run(rest),
    ["recs", .. var rest] => RecommendationBenchmark.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Chroma.Benchmarks COMMAND [options]
          capture [BenchmarkDotNet options, e.g. --filter '*']   capture overhead: bare vs wrapped calls
          recs [training production dimension]                   recommendation scoring speed and real-data AUROC
        """);
    return 2;
}
