namespace Chroma.Server.Recommendations.Scheduling;

/// <summary>What a request that waits for everything acknowledged before it waits for a ranking to cover.</summary>
/// <param name="Sequence">Every record stored up to this sequence.</param>
/// <param name="Deletes">The first this many deletes of the set (as <see cref="SetCoverage.DeletesCovered"/> counts them).</param>
internal readonly record struct AcknowledgedTarget(long Sequence, long Deletes);
