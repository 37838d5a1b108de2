using Chroma.Protocol.V1;

namespace Chroma.Server.Storage.Internal;

/// <summary>The rejections every provider gives, worded the same (clients and tests match on them).</summary>
internal static class IngestRejections
{
    /// <summary>The batch declares another dimension than the set was created with.</summary>
    public static IngestRejection DimensionMismatch(string setId, int batchDimension, int setDimension) =>
        new(IngestRejectionKind.DimensionMismatch,
            $"set.dimension: is {batchDimension}, but embedding set '{setId}' has dimension {setDimension}");

    /// <summary>The batch names another metric than the set was created with.</summary>
    public static IngestRejection MetricMismatch(string setId, DistanceMetric batchMetric, DistanceMetric setMetric) =>
        new(IngestRejectionKind.MetricMismatch,
            $"set.metric: is {SetMetrics.ToName(batchMetric)}, but embedding set '{setId}' was created with metric {SetMetrics.ToName(setMetric)} "
            + "(a set keeps its metric; send DISTANCE_METRIC_UNSPECIFIED or the set's metric, or log to a new model version)");

    /// <summary>Record <paramref name="index"/> of a batch for a cosine set has an all-zero embedding.</summary>
    public static IngestRejection ZeroVectorUnderCosine(string setId, int index) =>
        new(IngestRejectionKind.ZeroVector,
            $"records[{index}].embedding: is all zeros, which has no direction under the cosine metric of embedding set '{setId}'", index);

    /// <summary>Record <paramref name="index"/> reuses a stored id with other content.</summary>
    public static IngestRejection ConflictingRecord(string setId, string recordId, int index) =>
        new(IngestRejectionKind.ConflictingRecord,
            $"records[{index}].id: {recordId} is already stored in '{setId}' with different content", index);

    /// <summary>Record <paramref name="index"/> reuses, with other content, the id of a record that was deleted.</summary>
    public static IngestRejection DeletedRecordReused(string setId, string recordId, int index) =>
        new(IngestRejectionKind.ConflictingRecord,
            $"records[{index}].id: {recordId} was deleted from '{setId}' and cannot be reused (a deleted id stays deleted); log the new content under a new id", index);

    /// <summary>Record <paramref name="index"/> holds a value the provider cannot store.</summary>
    public static IngestRejection UnstorableValue(string field, int index, string problem) =>
        new(IngestRejectionKind.UnstorableValue, $"records[{index}].{field}: {problem}", index);
}
