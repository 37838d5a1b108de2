using System.Globalization;
using Npgsql;

namespace Chroma.Server.Storage.Postgres.Internal;

/// <summary>Turns the configured connection string into a data source, with errors that name the setting but never the password.</summary>
internal static class PostgresConnection
{
    /// <summary>The setting, as configuration and as an environment variable.</summary>
    public const string Setting = "Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString)";

    /// <summary>How long a start waits for the database before it gives up, unless the connection string says otherwise.</summary>
    private const int DefaultConnectTimeoutSeconds = 10;

    /// <summary>
    /// How many statements each pooled connection keeps prepared (Npgsql's <c>Max Auto Prepare</c>), unless the connection
    /// string says otherwise. The server runs a few dozen distinct statements, each many times: prepared, PostgreSQL neither
    /// parses nor plans them again (FindNearest on 100,000 records: about twice the queries per second).
    /// </summary>
    internal const int DefaultMaxAutoPrepare = 64;

    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(2);

    /// <summary>Parses <paramref name="connectionString"/>; throws <see cref="StorageStartException"/> when it is not one.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new StorageStartException($"{Setting} is required when Chroma:Storage:Provider is Postgres.");
        }

        try
        {
            return new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // Npgsql reports a misspelt key as an invalid value of it ("hots"): name the key as it was written.
            if (UnknownKey(connectionString) is { } unknown)
            {
                throw new StorageStartException(
                    $"{Setting}: the key '{unknown}' is not a PostgreSQL connection-string keyword (expected keys such as Host, Port, Database, Username, Password)");
            }

            // The parser's message can quote a value (the password among them): say only which key failed.
            throw new StorageStartException(
                $"{Setting} is not a valid PostgreSQL connection string (expected keys such as Host, Port, Database, Username, Password): {KeyOf(ex)}");
        }
    }

    /// <summary>A pooled data source for <paramref name="connectionString"/>.</summary>
    public static NpgsqlDataSource CreateDataSource(string? connectionString)
    {
        var builder = Parse(connectionString);
        if (!Has(connectionString!, "Timeout"))
        {
            builder.Timeout = DefaultConnectTimeoutSeconds;
        }

        // The staging table of the ingest fast path lives as long as its connection.
        builder.NoResetOnClose = true;

        // An explicit value wins, 0 included (a PgBouncer before 1.21 in transaction mode needs 0).
        if (!Has(connectionString!, "Max Auto Prepare") && !Has(connectionString!, "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>
    /// Opens one connection, then runs <paramref name="afterConnect"/> (the schema migration), trying both again while
    /// PostgreSQL is not accepting connections yet (refused, host not found, starting up) or goes away meanwhile (a
    /// restart: the connection is cut, or the server is shutting down) until <paramref name="wait"/> has passed; throws
    /// <see cref="StorageStartException"/> saying where it tried, what failed and, after retries, how long it waited.
    /// </summary>
    /// <param name="dataSource">The pool to open from.</param>
    /// <param name="connectionString">The configured string (for messages; its password is never shown).</param>
    /// <param name="wait">How long to keep trying (<see cref="StorageOptions.StartupTimeout"/>); zero tries once.</param>
    /// <param name="timeProvider">The clock the wait is measured and slept on.</param>
    /// <param name="waiting">Hears of each failed attempt before the pause after it: attempt number, reason, pause.</param>
    /// <param name="afterConnect">Work that needs the database (it opens its own connections from <paramref name="dataSource"/>).</param>
    public static void Check(
        NpgsqlDataSource dataSource,
        string connectionString,
        TimeSpan wait,
        TimeProvider timeProvider,
        Action<int, string, TimeSpan>? waiting = null,
        Action? afterConnect = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(timeProvider);
        var started = timeProvider.GetTimestamp();
        var pause = FirstPause;
        for (var attempt = 1; ; attempt++)
        {
            var connected = false;
            try
            {
                using (dataSource.OpenConnection())
                {
                    connected = true;
                }

                afterConnect?.Invoke();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                var builder = new NpgsqlConnectionStringBuilder(connectionString);
                var reason = Redact(ex.Message, builder.Password);
                var waited = timeProvider.GetElapsedTime(started);
                var left = wait - waited;
                if (!IsNotReadyYet(ex) || left <= TimeSpan.Zero)
                {
                    var gaveUp = attempt == 1 ? string.Empty : string.Create(CultureInfo.InvariantCulture,
                        $" (gave up after {attempt} attempts in {waited.TotalSeconds:F1} s; Chroma:Storage:StartupTimeout is {wait})");
                    var what = connected ? "cannot prepare the schema in" : "cannot connect to";
                    throw new StorageStartException($"{Setting}: {what} PostgreSQL at {Describe(builder)}: {reason}{gaveUp}");
                }

                // The whole wait is used: a pause that would pass its end is shortened, so the last attempt comes at the end.
                var thisPause = pause < left ? pause : left;
                waiting?.Invoke(attempt, reason, thisPause);

                // Connections pooled before a restart are cut: the next attempt opens fresh ones.
                dataSource.Clear();
                Task.Delay(thisPause, timeProvider).GetAwaiter().GetResult();
                pause = pause * 2 < LongestPause ? pause * 2 : LongestPause;
            }
        }
    }

    /// <summary>
    /// Whether a failed open may succeed later without a change of settings: PostgreSQL not up yet (connection refused,
    /// host not found, a timeout: Npgsql's transient errors) or up and not accepting connections yet (starting up, shutting
    /// down, too many connections). A refused login or an unknown database is not.
    /// </summary>
    private static bool IsNotReadyYet(Exception ex) => ex switch
    {
        PostgresException postgres => postgres.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown
            or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.TooManyConnections
            || postgres.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException npgsql => npgsql.IsTransient,
        TimeoutException => true,
        _ => false,
    };

    /// <summary>Where a connection string points, without its password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Host={builder.Host};Port={builder.Port};Database={builder.Database ?? "(default)"};Username={builder.Username ?? "(default)"}");

    /// <summary><paramref name="message"/> with <paramref name="password"/> blanked out, should the driver ever echo it.</summary>
    public static string Redact(string message, string? password) =>
        string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);

    private static bool Has(string connectionString, string key) =>
        connectionString.Split(';').Any(part => part.Split('=')[0].Trim().Equals(key, StringComparison.OrdinalIgnoreCase));

    // The first key of the string that Npgsql has no keyword for, as written; null when every key is one (or the string
    // does not even split into keys and values).
    private static string? UnknownKey(string connectionString)
    {
        try
        {
            var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>();
            var npgsql = new NpgsqlConnectionStringBuilder();
            var unknown = keys.FirstOrDefault(key => !npgsql.ContainsKey(key));

            // The generic parser lower-cases the keys; find it as the operator wrote it.
            return unknown is null ? null : connectionString.Split(';')
                .Select(part => part.Split('=', 2)[0].Trim())
                .FirstOrDefault(key => string.Equals(key, unknown, StringComparison.OrdinalIgnoreCase)) ?? unknown;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string KeyOf(Exception ex) =>
        ex is ArgumentException { ParamName: { } key } ? $"the value of '{key}' is not valid" : "a key or value is not valid";
}
