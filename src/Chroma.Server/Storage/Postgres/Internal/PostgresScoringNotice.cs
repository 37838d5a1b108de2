using System.Globalization;
using Npgsql;

namespace Chroma.Server.Storage.Postgres.Internal;

/// <summary>
/// The <c>NOTIFY</c>s on channel <see cref="Channel"/> that let replicas of one database hear about scoring at once
/// instead of at their next watermark poll (which stays, since a notice is lost while a listener reconnects).
/// Two payloads, a few dozen bytes each (PostgreSQL refuses one of 8000 bytes or more):
/// <list type="bullet">
/// <item><c>ranking:{set key}:{scores revision}</c>: the holder of the set's scoring lease published a pass (sent in
/// the statement that publishes it, so delivered after its commit and never for a pass the lease refused);</item>
/// <item><c>wanted:{set key}:{sequence}:{delete count}</c>: a request on a replica that does not score the set waits
/// for a ranking covering records through the sequence and that many of the set's deletes; the holder makes the set
/// due at once instead of after its debounce.</item>
/// </list>
/// The records a transaction commits are announced on <see cref="PostgresChangeNotice.Channel"/>.
/// </summary>
internal static class PostgresScoringNotice
{
    /// <summary>The channel every Chroma server on a database listens on for scoring notices.</summary>
    public const string Channel = "chroma_scoring";

    private const string RankingKind = "ranking:";
    private const string WantedKind = "wanted:";

    /// <summary>
    /// The SQL expression that sends the ranking notice, for the statement that publishes the pass:
    /// <paramref name="setKey"/> and <paramref name="revision"/> are SQL expressions, <paramref name="channel"/> the
    /// parameter that holds <see cref="Channel"/>.
    /// </summary>
    public static string RankingNotifySql(string channel, string setKey, string revision) =>
        $"pg_notify({channel}, concat('{RankingKind}', {setKey}, ':', {revision}))";

    /// <summary>Sends the notice that a request waits for the ranking of <paramref name="setKey"/>.</summary>
    public static async Task SendWantedAsync(
        NpgsqlConnection connection, long setKey, long throughSequence, long throughDeletes, CancellationToken cancellationToken = default)
    {
        using var command = new NpgsqlCommand("SELECT pg_notify($1, $2);", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Channel });
        command.Parameters.Add(new NpgsqlParameter { Value = FormatWanted(setKey, throughSequence, throughDeletes) });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The payload of a published pass (what <see cref="RankingNotifySql"/> builds in SQL).</summary>
    public static string FormatRanking(long setKey, long revision) =>
        string.Create(CultureInfo.InvariantCulture, $"{RankingKind}{setKey}:{revision}");

    /// <summary>The payload of a waiting request.</summary>
    public static string FormatWanted(long setKey, long throughSequence, long throughDeletes) =>
        string.Create(CultureInfo.InvariantCulture, $"{WantedKind}{setKey}:{throughSequence}:{throughDeletes}");

    /// <summary>Reads a payload and tells <paramref name="sink"/>; false when it is not one of ours (nothing is called).</summary>
    public static bool Dispatch(string? payload, IScoringChangeSink sink)
    {
        ArgumentNullException.ThrowIfNull(sink);
        if (payload is null)
        {
            return false;
        }

        var span = payload.AsSpan();
        if (span.StartsWith(RankingKind, StringComparison.Ordinal) && TryParse(span[RankingKind.Length..], 2, out var ranking))
        {
            sink.OnRankingPublished(ranking[0], ranking[1]);
            return true;
        }

        if (span.StartsWith(WantedKind, StringComparison.Ordinal) && TryParse(span[WantedKind.Length..], 3, out var wanted))
        {
            sink.OnPassWanted(wanted[0], wanted[1], wanted[2]);
            return true;
        }

        return false;
    }

    // count non-negative integers separated by ':' and nothing else.
    private static bool TryParse(ReadOnlySpan<char> text, int count, out long[] values)
    {
        values = new long[count];
        for (var i = 0; i < count; i++)
        {
            var end = i == count - 1 ? text.Length : text.IndexOf(':');
            if (end <= 0 || !long.TryParse(text[..end], NumberStyles.None, CultureInfo.InvariantCulture, out values[i]))
            {
                return false;
            }

            text = i == count - 1 ? [] : text[(end + 1)..];
        }

        return true;
    }
}
