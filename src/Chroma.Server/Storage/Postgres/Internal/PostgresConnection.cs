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
        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    /// <summary>Opens one connection; throws <see cref="StorageStartException"/> saying where it tried and why it failed.</summary>
    public static void Check(NpgsqlDataSource dataSource, string connectionString)
    {
        try
        {
            using var connection = dataSource.OpenConnection();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            throw new StorageStartException(
                $"{Setting}: cannot connect to PostgreSQL at {Describe(builder)}: {Redact(ex.Message, builder.Password)}");
        }
    }

    /// <summary>Where a connection string points, without its password.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder builder) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Host={builder.Host};Port={builder.Port};Database={builder.Database ?? "(default)"};Username={builder.Username ?? "(default)"}");

    /// <summary><paramref name="message"/> with <paramref name="password"/> blanked out, should the driver ever echo it.</summary>
    public static string Redact(string message, string? password) =>
        string.IsNullOrEmpty(password) ? message : message.Replace(password, "***", StringComparison.Ordinal);

    private static bool Has(string connectionString, string key) =>
        connectionString.Split(';').Any(part => part.Split('=')[0].Trim().Equals(key, StringComparison.OrdinalIgnoreCase));

    private static string KeyOf(Exception ex) =>
        ex is ArgumentException { ParamName: { } key } ? $"the value of '{key}' is not valid" : "a key or value is not valid";
}
