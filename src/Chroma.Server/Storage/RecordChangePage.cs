namespace Chroma.Server.Storage;

/// <summary>
/// One page of a set's changes after a sequence, as an index that tails the store reads them
/// (<see cref="IRecordStore.ReadChanges"/>): live records inserted, records deleted, and the sequence the
/// page brings the reader to.
/// </summary>
/// <param name="Sequences">Sequences of the inserted live records, ascending.</param>
/// <param name="Vectors">Their vectors, row i at <c>i * dimension</c>.</param>
/// <param name="Datasets">Their datasets.</param>
/// <param name="Deleted">Sequences of records whose deletion falls in the page (their inserts may be older).</param>
/// <param name="Through">
/// The reader's next cursor: every insert and deletion of the set stamped at or below it is in this page or
/// an earlier one.
/// </param>
/// <param name="HasMore">Whether the page was cut at its limit (more changes may follow at once).</param>
internal sealed record RecordChangePage(long[] Sequences, float[] Vectors, string[] Datasets, IReadOnlyList<long> Deleted, long Through, bool HasMore)
{
    /// <summary>Gets how many changes the page holds (inserts and deletions).</summary>
    public int Count => Sequences.Length + Deleted.Count;
}
