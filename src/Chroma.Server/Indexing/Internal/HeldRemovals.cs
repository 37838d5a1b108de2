namespace Chroma.Server.Indexing.Internal;

/// <summary>
/// An immutable set of held removals (<see cref="AdaptiveVectorIndex.TryHoldRemovals"/>), one part per page of deletions:
/// adding a page shares the parts before it, so holding many pages costs no copy of what was held already.
/// </summary>
internal sealed class HeldRemovals
{
    private readonly HashSet<long>[] _parts;

    private HeldRemovals(HashSet<long>[] parts, int count)
    {
        _parts = parts;
        Count = count;
    }

    /// <summary>Gets how many sequences are held.</summary>
    public int Count { get; }

    /// <summary>Gets every held sequence.</summary>
    public IEnumerable<long> Sequences => _parts.SelectMany(part => part);

    /// <summary>The most parts a set keeps before it merges them into one (a lookup checks every part).</summary>
    internal const int MaxParts = 16;

    /// <summary>The removals of <paramref name="held"/> (none when null) and those of <paramref name="page"/> (not among them).</summary>
    public static HeldRemovals With(HeldRemovals? held, HashSet<long> page)
    {
        ArgumentNullException.ThrowIfNull(page);
        if (held is null)
        {
            return new([page], page.Count);
        }

        if (held._parts.Length < MaxParts)
        {
            return new([.. held._parts, page], held.Count + page.Count);
        }

        // Many small pages (deletions arriving a few at a time): one part again, a copy every MaxParts pages.
        var merged = new HashSet<long>(held.Count + page.Count);
        merged.UnionWith(held.Sequences);
        merged.UnionWith(page);
        return new([merged], merged.Count);
    }

    /// <summary>Whether <paramref name="sequence"/> is held.</summary>
    public bool Contains(long sequence)
    {
        foreach (var part in _parts)
        {
            if (part.Contains(sequence))
            {
                return true;
            }
        }

        return false;
    }
}
