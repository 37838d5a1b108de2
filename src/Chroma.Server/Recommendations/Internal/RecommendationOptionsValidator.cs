using System.Globalization;
using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Recommendations.Internal;

/// <summary>Checks <see cref="RecommendationOptions"/> once, when the server starts (the engine never checks them per call).</summary>
internal sealed class RecommendationOptionsValidator : IValidateOptions<RecommendationOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RecommendationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(RecommendationOptions.SectionName);
        problems.Range(nameof(options.NeighborCount), options.NeighborCount, 1, int.MaxValue);
        problems.Range(nameof(options.ProductionShiftMinimumRows), options.ProductionShiftMinimumRows, 1, int.MaxValue);
        if (!(options.HoldOutFraction > 0 && options.HoldOutFraction < 1))
        {
            problems.Add(nameof(options.HoldOutFraction),
                string.Create(CultureInfo.InvariantCulture, $"must be between 0 and 1, both excluded (got {options.HoldOutFraction})"));
        }

        problems.Range(nameof(options.MaxHeldOut), options.MaxHeldOut, 1, int.MaxValue);
        problems.Range(nameof(options.MaxNeighborRows), options.MaxNeighborRows, 1, int.MaxValue);
        problems.Range(nameof(options.NearDuplicateThreshold), options.NearDuplicateThreshold, 0, double.MaxValue, "0 or more");
        problems.Range(nameof(options.CandidatePoolSize), options.CandidatePoolSize, 1, int.MaxValue);
        problems.Range(nameof(options.MaxDuplicateIdsPerEntry), options.MaxDuplicateIdsPerEntry, 0, int.MaxValue);
        problems.Range(nameof(options.DiversityWindow), options.DiversityWindow, 1, int.MaxValue);
        problems.Range(nameof(options.DiversityRelevance), options.DiversityRelevance, 0, 1, "between 0 and 1");
        problems.Range(nameof(options.StrongDiversityWindow), options.StrongDiversityWindow, 1, int.MaxValue);
        problems.Range(nameof(options.StrongDiversityRelevance), options.StrongDiversityRelevance, 0, 1, "between 0 and 1");
        return problems.Result;
    }
}
