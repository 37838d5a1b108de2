using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// A replica stalled inside a transaction (a long pause, a frozen VM) holds its set's row lock; a call through another
/// replica that needs the lock runs past its command timeout. Before (outside-in probe I, F2) it was answered "the
/// database is unavailable" although PostgreSQL was up, and the server logged nothing.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresLockTimeoutTests : PostgresDatabaseTest
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "lock-held");

    [Test, CancelAfter(120_000)]
    public async Task DeleteRecords_SetRowLockedByAStalledSession_UnavailableSayingTheDatabaseDidNotAnswerInTimeAndLogged(CancellationToken cancellationToken)
    {
        // Arrange: a replica whose statements time out after 2 s, a stored set, and another session that locks the set's
        // row (as a stalled replica's open ingest transaction does) and then does nothing.
        await using var replica = await PostgresReplicaServers.StartAsync($"{Database.ConnectionString};Command Timeout=2");
        var records = Records.Sequence(3);
        await PostgresReplicaServers.LogAsync(replica, Records.Batch(Set, records), cancellationToken);
        await using var stalled = new NpgsqlConnection(Database.ConnectionString);
        await stalled.OpenAsync(cancellationToken);
        await using var transaction = await stalled.BeginTransactionAsync(cancellationToken);
        await using (var lockRow = new NpgsqlCommand("SELECT set_key FROM embedding_sets WHERE set_id = $1 FOR UPDATE;", stalled, transaction))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = Records.SetId(Set) });
            await lockRow.ExecuteScalarAsync(cancellationToken);
        }

        // Act
        var query = new Query.QueryClient(replica.Invoker);
        var refused = Assert.ThrowsAsync<RpcException>(() => query.DeleteRecordsAsync(
            new DeleteRecordsRequest { SetId = Records.SetId(Set), Ids = { records[0].Id } }, cancellationToken: cancellationToken).ResponseAsync);
        await transaction.RollbackAsync(cancellationToken);
        var afterwards = await query.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = Records.SetId(Set), Ids = { records[0].Id } }, cancellationToken: cancellationToken);

        // Assert
        var warnings = replica.Logs.Entries.Where(e => e.Event.Id == 109).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(refused!.StatusCode, Is.EqualTo(StatusCode.Unavailable), "retryable");
            Assert.That(refused.Status.Detail, Does.Contain("did not answer in time").And.Contain("holds a lock").And.Contain("nothing was changed"));
            Assert.That(warnings, Has.Count.EqualTo(1));
            Assert.That(warnings.Select(w => w.Level), Is.All.EqualTo(LogLevel.Warning));
            Assert.That(warnings.Select(w => w.Message), Has.All.Contain("DeleteRecords").And.All.Contain("command timeout"));
            Assert.That(afterwards.Deleted, Is.EqualTo(1), "nothing was deleted by the call that timed out; the lock released, the same call deletes");
        });
    }
}
