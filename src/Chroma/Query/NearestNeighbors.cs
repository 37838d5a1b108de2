using System.Collections;

namespace Chroma;

/// <summary>
/// The answer of a FindNearest call: the neighbours, closest first, and whether the set's index had taken in every
/// record acknowledged before the call. Every <c>FindNearest</c> method of <see cref="ChromaClient"/> returns one (typed
/// as <see cref="IReadOnlyList{T}"/>): <c>if (neighbours is NearestNeighbors { IndexBehind: true }) ...</c>.
/// </summary>
public sealed class NearestNeighbors : IReadOnlyList<ChromaNeighbor>
{
    private readonly IReadOnlyList<ChromaNeighbor> _neighbors;

    /// <summary>Creates the answer from its neighbours (closest first) and <paramref name="indexBehind"/>.</summary>
    public NearestNeighbors(IReadOnlyList<ChromaNeighbor> neighbors, bool indexBehind)
    {
        ArgumentNullException.ThrowIfNull(neighbors);
        _neighbors = neighbors;
        IndexBehind = indexBehind;
    }

    /// <summary>
    /// Gets a value indicating whether the set's index lacked some records committed before the call, so the neighbours
    /// may miss them: the server waits a couple of seconds for its index to take in what was acknowledged before a call
    /// (through any server), but not while ingest outruns indexing by more than that (it answers at once from what the
    /// index holds). Those records are findable once the index catches up. False from servers that do not report it.
    /// </summary>
    public bool IndexBehind { get; }

    /// <inheritdoc />
    public int Count => _neighbors.Count;

    /// <inheritdoc />
    public ChromaNeighbor this[int index] => _neighbors[index];

    /// <inheritdoc />
    public IEnumerator<ChromaNeighbor> GetEnumerator() => _neighbors.GetEnumerator();

    /// <inheritdoc />
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
