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
    internal static int Distance(string a, string b) => Configuration.Internal.EditDistance.Between(a, b);
}
