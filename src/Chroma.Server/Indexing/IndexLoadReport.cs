namespace Chroma.Server.Indexing;

/// <summary>How a set's index came to be at start (or first use): loaded from its file and caught up, or built from the store.</summary>
/// <param name="FromFile">True when the saved index was loaded; false when it was missing or unreadable.</param>
/// <param name="RecordsReadFromStore">Records added from the store: all of them when built, only newer ones when caught up.</param>
/// <param name="DeletionsCaughtUp">Records deleted since the save and removed from the loaded graph.</param>
internal sealed record IndexLoadReport(bool FromFile, int RecordsReadFromStore, int DeletionsCaughtUp)
{
    /// <summary>Gets the vectors of an unfinished build's checkpoint that the resumed build keeps (0 when none was found).</summary>
    public int CheckpointVectors { get; init; }
}
