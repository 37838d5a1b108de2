using Chroma.Protocol.V1;

namespace Chroma.Server.Storage;

/// <summary>An embedding set the store knows: its internal key, public id and fixed descriptor.</summary>
/// <param name="Key">Row key inside the store; never leaves the server.</param>
/// <param name="SetId">The public id, <c>model/model_version/layer</c>.</param>
/// <param name="Descriptor">Model, version, layer, and the dimension and metric fixed by the first batch.</param>
internal sealed record StoredEmbeddingSet(long Key, string SetId, EmbeddingSetDescriptor Descriptor)
{
    /// <summary>Gets the dimension every embedding of the set has.</summary>
    public int Dimension => Descriptor.Dimension;

    /// <summary>Gets the set's metric: <see cref="DistanceMetric.L2"/> or <see cref="DistanceMetric.Cosine"/>, never unspecified.</summary>
    public DistanceMetric Metric => Descriptor.Metric == DistanceMetric.Unspecified ? DistanceMetric.L2 : Descriptor.Metric;
}
