using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Services.Internal;

/// <summary>Checks <see cref="IngestOptions"/> once, when the server starts.</summary>
internal sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(IngestOptions.SectionName);
        problems.Range(nameof(options.MaxPendingRecords), options.MaxPendingRecords, 1, 10_000_000);
        problems.Range(nameof(options.RetryAfter), options.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1), "1 ms and 1 minute");
        problems.Range(nameof(options.StreamIdleTimeout), options.StreamIdleTimeout, TimeSpan.Zero, TimeSpan.FromDays(1), "0 (never) and 1 day");
        return problems.Result;
    }
}
