using System.Globalization;
using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Recommendations.Internal;

/// <summary>Checks <see cref="ScoringOptions"/> once, when the server starts.</summary>
internal sealed class ScoringOptionsValidator : IValidateOptions<ScoringOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ScoringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(ScoringOptions.SectionName);
        problems.Range(nameof(options.Debounce), options.Debounce, TimeSpan.Zero, TimeSpan.FromHours(1), "0 and 1 hour");
        if (options.MaxDelay < options.Debounce || options.MaxDelay > TimeSpan.FromHours(1))
        {
            problems.Add(nameof(options.MaxDelay), string.Create(CultureInfo.InvariantCulture,
                $"must be between {problems.PathOf(nameof(options.Debounce))} ({options.Debounce}) and 1 hour (got {options.MaxDelay})"));
        }

        problems.Range(nameof(options.Threads), options.Threads, 0, 1024);
        problems.Range(nameof(options.ConcurrentPasses), options.ConcurrentPasses, 1, 64);
        problems.Range(nameof(options.LeaseDuration), options.LeaseDuration, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), "1 second and 1 hour");
        if (options.ChangePollInterval < TimeSpan.FromMilliseconds(50) || options.ChangePollInterval > TimeSpan.FromMinutes(1)
            || options.ChangePollInterval > options.LeaseDuration / 3)
        {
            problems.Add(nameof(options.ChangePollInterval), string.Create(CultureInfo.InvariantCulture,
                $"must be between 50 ms and 1 minute and at most a third of {problems.PathOf(nameof(options.LeaseDuration))} ({options.LeaseDuration}) (got {options.ChangePollInterval})"));
        }

        return problems.Result;
    }
}
