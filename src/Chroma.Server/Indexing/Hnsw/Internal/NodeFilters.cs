using System.Runtime.CompilerServices;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>Decides which visited nodes may enter the result set; the graph code is specialised per filter.</summary>
internal interface INodeFilter
{
    /// <summary>False for the no-filter case, which lets the search stop as soon as the frontier is worse than the results.</summary>
    static abstract bool Restricts { get; }

    bool Accepts(NodeStore nodes, int node);
}

/// <summary>Every node qualifies (construction and searches of an index without tombstones).</summary>
internal readonly struct AcceptAll : INodeFilter
{
    public static bool Restricts => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Accepts(NodeStore nodes, int node) => true;
}

/// <summary>Skips tombstones.</summary>
internal readonly struct AcceptLive : INodeFilter
{
    public static bool Restricts => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Accepts(NodeStore nodes, int node) => nodes.Deleted(node) == 0;
}

/// <summary>Skips tombstones and nodes of other tags.</summary>
internal readonly struct AcceptTag(int tag) : INodeFilter
{
    public static bool Restricts => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Accepts(NodeStore nodes, int node) => nodes.Tag(node) == tag && nodes.Deleted(node) == 0;
}
