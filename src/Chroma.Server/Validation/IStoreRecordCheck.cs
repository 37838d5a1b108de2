using Chroma.Protocol.V1;

namespace Chroma.Server.Validation;

/// <summary>
/// What the store a batch goes to refuses of a record the server's limits allow: an all-zero embedding for a cosine
/// set, text the storage provider cannot hold. <see cref="BatchValidator"/> asks it about every record that passed
/// the limits, so a rejected batch lists these records too, and dropping every listed record is enough for the rest
/// to be stored (the store checks the same again when it commits, for a set created meanwhile).
/// </summary>
internal interface IStoreRecordCheck
{
    /// <summary>Null when the store can hold record <paramref name="index"/> of the batch, else why not.</summary>
    ValidationError? Check(Record record, int index);

    /// <summary>
    /// Whether the set already holds <paramref name="record"/> unchanged (a re-send the store counts as a duplicate):
    /// asked only of a record that a rule newer than what is stored refuses (<see cref="ClassNameRule"/>), so a client
    /// re-sending what an earlier server stored gets duplicates, not a refused batch.
    /// </summary>
    bool IsStoredUnchanged(Record record);
}
