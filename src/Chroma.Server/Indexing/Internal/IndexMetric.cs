using Chroma.Protocol.V1;
using Chroma.Server.Indexing.Hnsw;
using Chroma.Server.Storage;

namespace Chroma.Server.Indexing.Internal;

/// <summary>The graph metric of a set's index: the set's own (L2 or cosine).</summary>
internal static class IndexMetric
{
    /// <summary>The <see cref="HnswMetric"/> that ranks <paramref name="set"/>'s records as its metric says.</summary>
    public static HnswMetric Of(StoredEmbeddingSet set) => set.Metric == DistanceMetric.Cosine ? HnswMetric.Cosine : HnswMetric.L2;
}
