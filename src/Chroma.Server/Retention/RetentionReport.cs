using Chroma.Protocol.V1;
using Chroma.Server.Storage;

namespace Chroma.Server.Retention;

/// <summary>The retention rules covering each set, with their last run, as <c>ListSets</c> reports them (<see cref="EmbeddingSetInfo.Retention"/>).</summary>
internal sealed class RetentionReport(RetentionOptions options, IReplicaCoordination coordination)
{
    /// <summary>Reads the last runs once (one query); null when no rule is configured.</summary>
    public IReadOnlyList<RetentionRun>? ReadRuns() => options.Rules.Count == 0 ? null : coordination.ReadRetentionRuns();

    /// <summary>The rules covering <paramref name="set"/> (the most specific per dataset: a rule naming the set wins over <c>*</c>).</summary>
    public IEnumerable<RetentionInfo> For(StoredEmbeddingSet set, IReadOnlyList<RetentionRun>? runs)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (runs is null)
        {
            yield break;
        }

        foreach (var rule in options.RulesFor(set.SetId))
        {
            var run = runs.FirstOrDefault(r => r.SetKey == set.Key && string.Equals(r.Dataset, rule.Dataset, StringComparison.Ordinal));
            yield return new RetentionInfo
            {
                Dataset = rule.Dataset,
                MaxAgeMs = (long)rule.MaxAge.TotalMilliseconds,
                LastRunUnixMs = run?.RanUnixMs ?? 0,
                LastRunDeleted = run?.Deleted ?? 0,
                DeletedTotal = run?.DeletedTotal ?? 0,
            };
        }
    }
}
