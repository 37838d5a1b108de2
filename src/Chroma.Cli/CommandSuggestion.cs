namespace Chroma.Server.Cli;

/// <summary>Finds the command a mistyped word most likely meant (edit distance with adjacent transpositions).</summary>
internal static class CommandSuggestion
{
    /// <summary>The nearest of <paramref name="candidates"/> within two edits (or that <paramref name="word"/> starts), else <see langword="null"/>.</summary>
    public static string? Nearest(string word, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(word);
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(word.ToLowerInvariant(), candidate);
            var limit = candidate.Length <= 4 ? 1 : 2;
            if (distance <= limit && distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best ?? (word.Length >= 3 ? candidates.FirstOrDefault(c => c.StartsWith(word, StringComparison.OrdinalIgnoreCase)) : null);
    }

    // Optimal string alignment distance: insertions, deletions, substitutions and swaps of two neighbours cost 1.
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
