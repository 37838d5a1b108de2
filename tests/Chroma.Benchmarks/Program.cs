using Chroma.Benchmarks.Capture;
using Chroma.Benchmarks.Ood;
using Chroma.Benchmarks.Recommendations;

return args switch
{
    ["capture", .. var rest] => CaptureCommand.Run(rest),
    ["recs", .. var rest] => RecommendationBenchmark.Run(rest),
    ["recs-server", .. var rest] => await ServerScoringBenchmark.RunAsync(rest),
    ["ood", .. var rest] => await OodCommand.RunAsync(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Chroma.Benchmarks capture [BenchmarkDotNet options, e.g. --filter '*']");
    Console.Error.WriteLine("       Chroma.Benchmarks recs [training] [production] [dimension]");
    Console.Error.WriteLine("       Chroma.Benchmarks recs-server [training] [production] [dimension]");
    Console.Error.WriteLine("       Chroma.Benchmarks ood [--data <samples/data folder>] [--epochs N]");
    return 2;
}
