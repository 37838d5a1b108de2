using Chroma.Protocol.V1;
using Chroma.Server.Indexing;

namespace Chroma.Server.Storage.Internal;

/// <summary>
/// What every provider checks, inside the ingest transaction, about a batch and the metric of the set it
/// goes to: the batch names no metric or the set's own, and a cosine set gets no all-zero embedding (it has no
/// direction, so no cosine distance to anything).
/// </summary>
internal static class SetMetricCheck
{
    /// <summary>
    /// The problem of the batch under the set's metric, or null. All-zero embeddings are listed each
    /// (<see cref="IngestRejection.RecordRejections"/>), so a client that drops them all can re-send the rest.
    /// </summary>
    public static IngestRejection? Check(StoredEmbeddingSet set, EmbeddingSetDescriptor batchDescriptor, IReadOnlyList<PreparedRecord> records)
    {
        var requested = batchDescriptor.Metric;
        if (requested != DistanceMetric.Unspecified && requested != set.Metric)
        {
            return IngestRejections.MetricMismatch(set.SetId, requested, set.Metric);
        }

        if (set.Metric != DistanceMetric.Cosine)
        {
            return null;
        }

        List<IngestRejection>? zeros = null;
        for (var i = 0; i < records.Count; i++)
        {
            if (!UnitVector.HasDirection(records[i].Vector))
            {
                (zeros ??= []).Add(IngestRejections.ZeroVectorUnderCosine(set.SetId, i));
            }
        }

        return IngestRejection.Listing(zeros);
    }
}
