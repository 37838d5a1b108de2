using System.Globalization;
using Npgsql;

namespace Chroma.Server.Storage.Postgres.Internal;

/// <summary>
/// The <c>NOTIFY</c> a writing transaction sends so that every server's indexes wake up: channel
/// <see cref="Channel"/> (notifications are scoped to the database), payload <c>{set key}:{sequence}</c>.
/// PostgreSQL delivers it only if the transaction commits, after the commit.
/// </summary>
internal static class PostgresChangeNotice
{
    /// <summary>The channel every Chroma server on a database listens on.</summary>
    public const string Channel = "chroma_record_changes";

    /// <summary>Queues the notice in <paramref name="transaction"/>.</summary>
    public static async Task SendAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long setKey, long sequence, CancellationToken cancellationToken = default)
    {
        using var command = new NpgsqlCommand("SELECT pg_notify($1, $2);", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = Channel });
        command.Parameters.Add(new NpgsqlParameter { Value = Format(setKey, sequence) });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The payload for a change of <paramref name="setKey"/> through <paramref name="sequence"/>.</summary>
    public static string Format(long setKey, long sequence) => string.Create(CultureInfo.InvariantCulture, $"{setKey}:{sequence}");

    /// <summary>Reads a payload; false when it is not one of ours.</summary>
    public static bool TryParse(string? payload, out long setKey, out long sequence)
    {
        setKey = 0;
        sequence = 0;
        var colon = payload?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0
            && long.TryParse(payload.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out setKey)
            && long.TryParse(payload.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }
}
