using Microsoft.Data.Sqlite;

namespace Chroma.Server.Security;

/// <summary>
/// <see cref="ISignOutStore"/> in the server's SQLite file (<c>chroma.db</c>): a table of its own, created when missing
/// (it only adds to the schema, like the review tables, so the record store's schema version is untouched and an older
/// server ignores it). A connection per call, unpooled: sign-outs are rare and a lookup is one indexed read.
/// </summary>
internal sealed class SqliteSignOutStore : ISignOutStore
{
    private const int BusyTimeoutSeconds = 10;

    private const string Table = """
        CREATE TABLE IF NOT EXISTS studio_sign_outs (
            token_digest TEXT    PRIMARY KEY,
            expires_ms   INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS studio_sign_outs_by_expiry ON studio_sign_outs (expires_ms);
        """;

    private readonly string _connectionString;

    private SqliteSignOutStore(string connectionString) => _connectionString = connectionString;

    /// <summary>Opens the table in the database of <paramref name="dataDirectory"/>, creating it if needed.</summary>
    public static SqliteSignOutStore Open(string dataDirectory, string fileName = "chroma.db")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        var directory = OwnerOnlyFiles.CreateDirectory(dataDirectory);
        OwnerOnlyFiles.CreateEmptyIfMissing(Path.Combine(directory, fileName));
        var store = new SqliteSignOutStore(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(directory, fileName),
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = BusyTimeoutSeconds,
        }.ToString());
        using var connection = store.Connect();
        using var create = connection.CreateCommand();
        create.CommandText = Table;
        create.ExecuteNonQuery();
        return store;
    }

    /// <inheritdoc />
    public async Task AddAsync(string tokenDigest, DateTimeOffset expires, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenDigest);
        await using var connection = Connect();
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var add = connection.CreateCommand();
        add.Transaction = transaction;
        add.CommandText = """
            INSERT OR IGNORE INTO studio_sign_outs (token_digest, expires_ms) VALUES ($digest, $expires);
            DELETE FROM studio_sign_outs WHERE expires_ms <= $now;
            """;
        add.Parameters.AddWithValue("$digest", tokenDigest);
        add.Parameters.AddWithValue("$expires", expires.ToUnixTimeMilliseconds());
        add.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        await add.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> ContainsAsync(string tokenDigest, CancellationToken cancellationToken = default)
    {
        await using var connection = Connect();
        await using var find = connection.CreateCommand();
        find.CommandText = "SELECT 1 FROM studio_sign_outs WHERE token_digest = $digest;";
        find.Parameters.AddWithValue("$digest", tokenDigest);
        return await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    private SqliteConnection Connect()
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            connection.Open();
            using var wait = connection.CreateCommand();
            wait.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutSeconds * 1000};";
            wait.ExecuteNonQuery();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
