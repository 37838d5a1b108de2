using System.Globalization;
using System.Text.RegularExpressions;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// The scoring worker's log lines of one replica process, as <see cref="ReplicaProcess"/> keeps them (simple console
/// format, one line each): the passes it ran (event 300, Information) and the stored rankings it read because
/// another replica published a pass: whole (event 335, <c>ScoringLog.Followed</c>, Debug) or only the scores written since
/// the replica's last read (event 336, <c>ScoringLog.FollowedChanges</c>, Debug). Read with
/// <c>Logging__LogLevel__Chroma.Server.Recommendations.Scheduling=Debug</c> (<see cref="Environment"/>).
/// </summary>
internal static partial class ScoringLogLines
{
    /// <summary>What a replica's environment needs for these lines to be logged.</summary>
    public static readonly IReadOnlyDictionary<string, string> Environment = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Logging__LogLevel__Chroma.Server.Recommendations.Scheduling"] = "Debug",
    };

    /// <summary>The passes the replica has logged so far: records in the ranking and milliseconds, in order.</summary>
    public static (int Rows, double Ms)[] Passes(ReplicaProcess replica) =>
        [.. replica.LogLines("[300]").Select(l => PassPattern().Match(l)).Where(m => m.Success).Select(m => (Int(m, "total"), (double)Int(m, "ms")))];

    /// <summary>The follow reads the replica has logged so far, whole ones (335) then reads of the changes (336): rows read and milliseconds.</summary>
    public static (int Rows, double Ms)[] Follows(ReplicaProcess replica) =>
        [.. replica.LogLines("[335]").Concat(replica.LogLines("[336]")).Select(l => FollowPattern().Match(l)).Where(m => m.Success).Select(m => (Int(m, "rows"), (double)Int(m, "ms")))];

    private static int Int(Match match, string group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\((?<total>\d+) in all, .*\) in (?<ms>\d+) ms")]
    private static partial Regex PassPattern();

    [GeneratedRegex(@"Read the (?<rows>\d+) scores of .* in (?<ms>\d+) ms")]
    private static partial Regex FollowPattern();
}
