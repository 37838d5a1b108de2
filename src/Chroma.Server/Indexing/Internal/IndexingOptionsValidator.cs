using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Indexing.Internal;

/// <summary>Checks <see cref="IndexingOptions"/> once, when the server starts.</summary>
internal sealed class IndexingOptionsValidator : IValidateOptions<IndexingOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, IndexingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(IndexingOptions.SectionName);
        problems.Range(nameof(options.ExactSearchThreshold), options.ExactSearchThreshold, 0, int.MaxValue);
        problems.Range(nameof(options.CatchUpTimeout), options.CatchUpTimeout, TimeSpan.Zero, TimeSpan.FromMinutes(1), "0 and 1 minute");
        problems.Range(nameof(options.SaveInterval), options.SaveInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), "1 second and 1 day");
        problems.Range(nameof(options.PollInterval), options.PollInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), "100 ms and 1 hour");
        problems.Range(nameof(options.BuildThreads), options.BuildThreads, 0, 1024);
        problems.Range(nameof(options.BuildCheckpointInterval), options.BuildCheckpointInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), "1 second and 1 day");
        problems.Range(nameof(options.MaxStagedFloats), options.MaxStagedFloats, 1 << 20, 1 << 30);
        return problems.Result;
    }
}
