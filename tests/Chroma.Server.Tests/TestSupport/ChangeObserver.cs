using Chroma.Server.Storage;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>An <see cref="IRecordChangeObserver"/> made of two lambdas (either may be null).</summary>
internal sealed class ChangeObserver(
    Action<StoredEmbeddingSet, IReadOnlyList<InsertedRecord>>? stored = null,
    Action<StoredEmbeddingSet, IReadOnlyList<long>>? deleted = null) : IRecordChangeObserver
{
    public int Order => 0;

    public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted) => stored?.Invoke(set, inserted);

    public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences) => deleted?.Invoke(set, sequences);
}
