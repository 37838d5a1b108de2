using System.Globalization;

namespace Chroma.Server.Recommendations;

/// <summary>
/// The version a <see cref="RecommendationModel"/> scores under: its training version, and when it has a
/// <see cref="ProductionShift"/>, the production it was fitted on (<c>{training}+shift{through}n{count}</c>). Records
/// scored under another version are rescored; the training part alone says whether the training data changed.
/// </summary>
internal static class ModelVersion
{
    private const string ShiftMarker = "+shift";

    /// <summary>The version of a model fitted on <paramref name="trainingVersion"/> and production through <paramref name="throughSequence"/> (<paramref name="productionCount"/> rows).</summary>
    public static string Compose(string trainingVersion, long throughSequence, long productionCount) =>
        string.Create(CultureInfo.InvariantCulture, $"{TrainingPart(trainingVersion)}{ShiftMarker}{throughSequence}n{productionCount}");

    /// <summary>The training version inside <paramref name="version"/> (all of it when it has no production part); null stays null.</summary>
    public static string? TrainingPart(string? version)
    {
        if (version is null)
        {
            return null;
        }

        var at = version.IndexOf(ShiftMarker, StringComparison.Ordinal);
        return at < 0 ? version : version[..at];
    }

    /// <summary>Whether two versions belong to the same training data.</summary>
    public static bool SameTraining(string? a, string? b) => string.Equals(TrainingPart(a), TrainingPart(b), StringComparison.Ordinal);

    /// <summary>Reads the production part of <paramref name="version"/>; false when it has none.</summary>
    public static bool TryReadShift(string? version, out long throughSequence, out long productionCount)
    {
        throughSequence = 0;
        productionCount = 0;
        var at = version?.IndexOf(ShiftMarker, StringComparison.Ordinal) ?? -1;
        if (at < 0)
        {
            return false;
        }

        var rest = version.AsSpan(at + ShiftMarker.Length);
        var n = rest.IndexOf('n');
        return n > 0
            && long.TryParse(rest[..n], NumberStyles.None, CultureInfo.InvariantCulture, out throughSequence)
            && long.TryParse(rest[(n + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out productionCount);
    }
}
