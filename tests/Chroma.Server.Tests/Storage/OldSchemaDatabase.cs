using System.Globalization;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Validation;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A data directory as a server of schema 2 (before sets had a metric, November's) left it, stopped cleanly: records in
/// <c>chroma.db</c>, the metric column gone and the version row set back, as <see cref="SqliteSchemaMigrationTests"/> builds it.
/// </summary>
internal static class OldSchemaDatabase
{
    public const int Version = 2;

    public static async Task CreateAsync(string dataDirectory, int records = 5)
    {
        using (var store = SqliteRecordStore.Open(dataDirectory, TimeProvider.System))
        {
            var descriptor = Records.Set();
            var outcome = await store.IngestAsync(SetDescriptorValidator.SetId(descriptor), descriptor, StoreFixture.Prepare(Records.Sequence(records))).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.That(outcome.Error, Is.Null);
        }

        Execute(dataDirectory, string.Create(CultureInfo.InvariantCulture, $"ALTER TABLE embedding_sets DROP COLUMN metric; UPDATE schema_version SET version = {Version};"));
    }

    /// <summary>The version row of the database in <paramref name="dataDirectory"/>, read as SQLite stores it.</summary>
    public static long ReadVersion(string dataDirectory)
    {
        using var connection = Connect(dataDirectory);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT MAX(version) FROM schema_version;";
        return (long)command.ExecuteScalar()!;
    }

    public static void Execute(string dataDirectory, string sql)
    {
        using var connection = Connect(dataDirectory);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static SqliteConnection Connect(string dataDirectory)
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, SqliteDatabase.FileName)};Pooling=False");
        connection.Open();
        return connection;
    }
}
