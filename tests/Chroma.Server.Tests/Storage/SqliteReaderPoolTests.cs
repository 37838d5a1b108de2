using System.Diagnostics;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// Microsoft.Data.Sqlite up to 10.0.11 could lend one pooled connection to two readers opened at once (dotnet/efcore
/// #39008): a reader that had just taken a connection looked leaked for an instant and was reclaimed. The second
/// reader's transaction then failed with "cannot start a transaction within a transaction" (probe N's N3, in
/// <c>ListSets</c> under Studio's event streams at start-up). Races are not deterministic: this runs waves of opens
/// for ten seconds, in the soak tier. With 10.0.5 it failed within a few hundred waves.
/// </summary>
[TestFixture]
[Category("soak")]
public sealed class SqliteReaderPoolTests
{
    private const int ReadersAtOnce = 16;

    [Test]
    public void OpenReader_ManyAtOnceWithAnEmptyPool_EachReaderHasItsOwnConnection()
    {
        // Arrange
        using var directory = new TempDirectory();
        using var database = SqliteDatabase.Open(directory.Path, TimeProvider.System);
        var elapsed = Stopwatch.StartNew();
        var waves = 0;

        // Act / Assert
        while (elapsed.Elapsed < TimeSpan.FromSeconds(10))
        {
            var readers = OpenAtOnce(database);
            try
            {
                var handles = readers.Select(reader => reader.Handle!.DangerousGetHandle()).Distinct().Count();
                Assert.That(handles, Is.EqualTo(ReadersAtOnce), $"wave {waves}: two readers were given one connection");
                foreach (var reader in readers)
                {
                    using var transaction = reader.BeginTransaction(deferred: true);
                    using var command = reader.CreateCommand();
                    command.Transaction = transaction;
                    command.CommandText = "SELECT COUNT(*) FROM embedding_sets;";
                    Assert.That(command.ExecuteScalar(), Is.EqualTo(0L));
                }
            }
            finally
            {
                foreach (var reader in readers)
                {
                    reader.Dispose();
                }
            }

            // An empty pool makes the next wave's opens create connections, the path on which a reader was reclaimed.
            SqliteConnection.ClearPool(readers[0]);
            waves++;
        }

        TestContext.Out.WriteLine($"{waves} waves of {ReadersAtOnce} readers");
    }

    private static SqliteConnection[] OpenAtOnce(SqliteDatabase database)
    {
        var readers = new SqliteConnection[ReadersAtOnce];
        using var start = new Barrier(ReadersAtOnce);
        var threads = Enumerable.Range(0, ReadersAtOnce).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            readers[i] = database.OpenReader();
        })).ToList();
        threads.ForEach(thread => thread.Start());
        threads.ForEach(thread => thread.Join());
        return readers;
    }
}
