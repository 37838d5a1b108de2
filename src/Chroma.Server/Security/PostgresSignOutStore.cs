using Chroma.Server.Storage.Postgres;
using Npgsql;

namespace Chroma.Server.Security;

/// <summary>
/// <see cref="ISignOutStore"/> in the PostgreSQL database the records are in (table <c>studio_sign_outs</c>, schema
/// version 8), shared by every replica: a session signed out through one server is refused by all of them. The
/// database belongs to the record storage; this store only borrows its connections.
/// </summary>
internal sealed class PostgresSignOutStore : ISignOutStore
{
    private readonly PostgresDatabase _database;

    /// <summary>Reads and writes the sign-outs of <paramref name="database"/>.</summary>
    public PostgresSignOutStore(PostgresDatabase database)
    {
        ArgumentNullException.ThrowIfNull(database);
        _database = database;
    }

    /// <inheritdoc />
    public async Task AddAsync(string tokenDigest, DateTimeOffset expires, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenDigest);
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("INSERT INTO studio_sign_outs (token_digest, expires_ms) VALUES ($1, $2) ON CONFLICT (token_digest) DO NOTHING;")
                {
                    Parameters = { new NpgsqlParameter { Value = tokenDigest }, new NpgsqlParameter { Value = expires.ToUnixTimeMilliseconds() } },
                },
                new NpgsqlBatchCommand("DELETE FROM studio_sign_outs WHERE expires_ms <= $1;")
                {
                    Parameters = { new NpgsqlParameter { Value = now.ToUnixTimeMilliseconds() } },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> ContainsAsync(string tokenDigest, CancellationToken cancellationToken = default)
    {
        await using var connection = await _database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var find = new NpgsqlCommand("SELECT 1 FROM studio_sign_outs WHERE token_digest = $1;", connection);
        find.Parameters.Add(new NpgsqlParameter { Value = tokenDigest });
        return await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }
}
