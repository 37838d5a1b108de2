using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Recommendations.Internal;

/// <summary>Checks <see cref="DriftOptions"/> once, when the server starts.</summary>
internal sealed class DriftOptionsValidator : IValidateOptions<DriftOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DriftOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(DriftOptions.SectionName);
        problems.Range(nameof(options.Window), options.Window, 2, 100_000);
        problems.Range(nameof(options.SampleSize), options.SampleSize, 2, 100_000);
        problems.Range(nameof(options.Permutations), options.Permutations, 1, 100_000);
        problems.Range(nameof(options.HistorySpacing), options.HistorySpacing, TimeSpan.Zero, TimeSpan.FromDays(1), "0 and 1 day");
        return problems.Result;
    }
}
