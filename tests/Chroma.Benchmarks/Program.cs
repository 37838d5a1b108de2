using Chroma.Benchmarks;
using Chroma.Benchmarks.ActiveLearning;
using Chroma.Benchmarks.Ann;
using Chroma.Benchmarks.Capture;
using Chroma.Benchmarks.Data;
using Chroma.Benchmarks.Kernels;
using Chroma.Benchmarks.Ood;
using Chroma.Benchmarks.Recommendations;
using Chroma.Benchmarks.Storage;

// Benchmarks and evaluation harnesses (Release builds only): dotnet run -c Release --project tests/Chroma.Benchmarks -- COMMAND ...
// Each command is one entry of this table.
var commands = new Dictionary<string, (string Usage, Func<string[], int> Run)>(StringComparer.Ordinal)
{
    ["ann"] = (AnnCommand.Usage, a => AnnCommand.Run(new CommandArguments(a))),
    ["recall-estimate"] = (RecallEstimateCommand.Usage, a => RecallEstimateCommand.Run(new CommandArguments(a))),
    ["index-build"] = (IndexBuildCommand.Usage, a => IndexBuildCommand.Run(new CommandArguments(a))),
    ["index-file"] = (IndexFileCommand.Usage, a => IndexFileCommand.Run(new CommandArguments(a))),
    ["make-data"] = (MakeDataCommand.Usage, a => MakeDataCommand.Run(new CommandArguments(a))),
    ["kernels"] = (KernelsCommand.Usage, a => KernelsCommand.Run(new CommandArguments(a))),
    ["exact-scan"] = (ExactScanCommand.Usage, a => ExactScanCommand.Run(new CommandArguments(a))),
    ["capture"] = ("[BenchmarkDotNet options, e.g. --filter '*'] | --probe N | --torch-probe   (capture overhead)", CaptureCommand.Run),
    ["recs"] = ("[training production dimension]   (recommendation scoring speed, real-data AUROC)", RecommendationBenchmark.Run),
    ["recs-fingerprint"] = (RankingFingerprintBenchmark.Usage, RankingFingerprintBenchmark.Run),
    ["recs-page"] = (RankingPageBenchmark.Usage, RankingPageBenchmark.Run),
    ["recs-readback"] = (ScoreReadBackBenchmark.Usage, ScoreReadBackBenchmark.Run),
    ["recs-rankingfile"] = (RankingFileBenchmark.Usage, RankingFileBenchmark.Run),
    ["recs-decode"] = (ScoreDecodeBenchmark.Usage, ScoreDecodeBenchmark.Run),
    ["recs-lanes"] = (ScoringLanesBenchmark.Usage, a => ScoringLanesBenchmark.RunAsync(a).GetAwaiter().GetResult()),
    ["recs-server"] = ("[training production dimension]   (scoring lag through the real client and server)", a => ServerScoringBenchmark.RunAsync(a).GetAwaiter().GetResult()),
    ["storage-ingest"] = (StorageIngestCommand.Usage, a => StorageIngestCommand.RunAsync(a).GetAwaiter().GetResult()),
    ["ingest-replicas"] = (ReplicaIngestCommand.Usage, a => ReplicaIngestCommand.RunAsync(a).GetAwaiter().GetResult()),
    ["pg-million"] = (MillionRecordsCommand.Usage, a => MillionRecordsCommand.RunAsync(a).GetAwaiter().GetResult()),
    ["replica-follow"] = (ReplicaFollowCommand.Usage, a => ReplicaFollowCommand.RunAsync(a).GetAwaiter().GetResult()),
    ["nearest-load"] = (NearestLoadCommand.Usage, a => NearestLoadCommand.RunAsync(new CommandArguments(a)).GetAwaiter().GetResult()),
    ["list-sets"] = (ListSetsCommand.Usage, a => ListSetsCommand.RunAsync(new CommandArguments(a)).GetAwaiter().GetResult()),
    ["cluster-islands"] = (ClusterIslandsCommand.Usage, a => ClusterIslandsCommand.Run(new CommandArguments(a))),
    ["index-increments"] = (IndexIncrementsCommand.Usage, a => IndexIncrementsCommand.RunAsync(new CommandArguments(a)).GetAwaiter().GetResult()),
    ["index-catchup"] = (IndexCatchUpCommand.Usage, a => IndexCatchUpCommand.RunAsync(a).GetAwaiter().GetResult()),
    ["ood"] = (ShiftEvaluationCommand.Usage, a => a.Contains("--server") ? OodCommand.RunAsync([.. a.Where(x => x != "--server")]).GetAwaiter().GetResult() : ShiftEvaluationCommand.Run(new CommandArguments(a))),
    ["active-learning"] = (ActiveLearningCommand.Usage, a => ActiveLearningCommand.Run(new CommandArguments(a))),
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var command))
{
    Console.Error.WriteLine("usage: Chroma.Benchmarks <command> [options]");
    foreach ((string name, (string usage, _)) in commands)
    {
        Console.Error.WriteLine($"  {name,-10} {usage}");
    }

    return args.Length == 0 ? 0 : 2;
}

try
{
    return command.Run(args[1..]);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"{args[0]}: {ex.Message}");
    Console.Error.WriteLine($"usage: {args[0]} {command.Usage}");
    return 2;
}
