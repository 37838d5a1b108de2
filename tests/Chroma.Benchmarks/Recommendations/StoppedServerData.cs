using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>The SQLite data directory of a stopped server, as the read-back benchmarks take it: <c>DATA_DIRECTORY [SET_ID]</c>.</summary>
internal static class StoppedServerData
{
    /// <summary>Opens <c>args[0]</c> (no integrity check) and picks the set <c>args[1]</c>, else the one with the most records.</summary>
    public static (RecordStorage Storage, StoredEmbeddingSet Set) Open(string[] args)
    {
        if (args.Length < 1)
        {
            throw new ArgumentException("give the data directory of a stopped server.");
        }

        var storage = SqliteStorage.Open(args[0], TimeProvider.System, RecordChangeObservers.None, IntegrityCheckMode.Off);
        var sets = storage.Records.ListSets();
        var set = (args.Length > 1 ? sets.Single(s => s.Set.SetId == args[1]) : sets.OrderByDescending(s => s.TotalRecords).First()).Set;
        return (storage, set);
    }
}
