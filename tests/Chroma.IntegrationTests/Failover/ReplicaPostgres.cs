using System.Runtime.InteropServices;
using Chroma.IntegrationTests.Ingest;
using Chroma.Testing.Postgres;
using Npgsql;

namespace Chroma.IntegrationTests.Failover;

/// <summary>The PostgreSQL side of the replica tests: a fresh database, and what the store holds, read with SQL.</summary>
internal static class ReplicaPostgres
{
    /// <summary>A new empty database; ignores the test (fails it under CI) when no PostgreSQL can be started.</summary>
    public static async Task<string> CreateDatabaseOrIgnoreAsync(CancellationToken cancellationToken)
    {
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync(cancellationToken);
        if (connectionString is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        return connectionString!;
    }

    /// <summary>The (producer, index) key of every row of the set in the <c>records</c> table (one entry per row).</summary>
    public static async Task<List<(int Producer, int Index)>> ReadKeysAsync(string connectionString, string setId, CancellationToken cancellationToken)
    {
        var keys = new List<(int, int)>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT r.embedding FROM records r JOIN embedding_sets s ON s.set_key = r.set_key WHERE s.set_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = setId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var bytes = (byte[])reader[0];
            keys.Add(RecordCodec.Decode(MemoryMarshal.Cast<byte, float>(bytes)));
        }

        return keys;
    }
}
