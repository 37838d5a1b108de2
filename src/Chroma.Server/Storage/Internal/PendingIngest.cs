using Chroma.Protocol.V1;

namespace Chroma.Server.Storage.Internal;

/// <summary>A batch waiting in the group-commit queue, and what its commit produced.</summary>
internal sealed class PendingIngest(string setId, EmbeddingSetDescriptor descriptor, IReadOnlyList<PreparedRecord> records)
{
    public string SetId { get; } = setId;

    public EmbeddingSetDescriptor Descriptor { get; } = descriptor;

    public IReadOnlyList<PreparedRecord> Records { get; } = records;

    // Continuations run off the writer loop so a slow caller cannot stall the next group.
    public TaskCompletionSource<IngestOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets or sets the set the batch was written to (null when rejected).</summary>
    public StoredEmbeddingSet? Set { get; set; }

    /// <summary>Gets the records the batch inserted.</summary>
    public List<InsertedRecord> Inserted { get; } = [];

    /// <summary>Gets or sets the outcome, once the batch ran inside its group's transaction.</summary>
    public IngestOutcome? Outcome { get; set; }
}
