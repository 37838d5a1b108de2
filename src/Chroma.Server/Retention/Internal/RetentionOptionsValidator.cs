using System.Globalization;
using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Retention.Internal;

/// <summary>Checks <see cref="RetentionOptions"/> and each of its rules once, when the server starts.</summary>
internal sealed class RetentionOptionsValidator : IValidateOptions<RetentionOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, RetentionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(RetentionOptions.SectionName);
        problems.Range(nameof(options.Interval), options.Interval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), "1 second and 1 day");
        problems.Range(nameof(options.BatchSize), options.BatchSize, 1, 100_000);
        if (options.Rules is null)
        {
            problems.Add(nameof(options.Rules), "must be a list of rules (may be empty)");
            return problems.Result;
        }

        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < options.Rules.Count; i++)
        {
            var rule = options.Rules[i];
            var at = string.Create(CultureInfo.InvariantCulture, $"Rules:{i}");
            if (rule is null)
            {
                problems.Add(at, "must be set");
                continue;
            }

            if (string.IsNullOrWhiteSpace(rule.Set))
            {
                problems.Add($"{at}:Set", "must name an embedding set id, or \"*\" for every set");
            }

            if (string.IsNullOrWhiteSpace(rule.Dataset))
            {
                problems.Add($"{at}:Dataset", "must name a dataset, e.g. \"production\"");
            }

            if (rule.MaxAge < TimeSpan.FromMinutes(1) || rule.MaxAge > TimeSpan.FromDays(36_525))
            {
                problems.Add($"{at}:MaxAge", string.Create(CultureInfo.InvariantCulture,
                    $"must be between 1 minute and 100 years, e.g. 30.00:00:00 for 30 days (got {rule.MaxAge})"));
            }

            if (rule.Set is { } set && rule.Dataset is { } dataset && !seen.Add((set, dataset)))
            {
                problems.Add(at, $"repeats the rule for set \"{set}\" and dataset \"{dataset}\"; keep one");
            }
        }

        return problems.Result;
    }
}
