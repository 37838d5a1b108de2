namespace Chroma.Server.Storage.Internal;

/// <summary>The rejections every provider gives, worded the same (clients and tests match on them).</summary>
internal static class IngestRejections
{
    /// <summary>The batch declares another dimension than the set was created with.</summary>
    public static IngestRejection DimensionMismatch(string setId, int batchDimension, int setDimension) =>
        new(IngestRejectionKind.DimensionMismatch,
            $"set.dimension: is {batchDimension}, but embedding set '{setId}' has dimension {setDimension}");

    /// <summary>Record <paramref name="index"/> reuses a stored id with other content.</summary>
    public static IngestRejection ConflictingRecord(string setId, string recordId, int index) =>
        new(IngestRejectionKind.ConflictingRecord,
            $"records[{index}].id: {recordId} is already stored in '{setId}' with different content", index);

    /// <summary>Record <paramref name="index"/> holds a value the provider cannot store.</summary>
    public static IngestRejection UnstorableValue(string field, int index, string problem) =>
        new(IngestRejectionKind.UnstorableValue, $"records[{index}].{field}: {problem}", index);
}
