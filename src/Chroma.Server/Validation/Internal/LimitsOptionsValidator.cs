using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Validation.Internal;

/// <summary>Checks <see cref="LimitsOptions"/> once, when the server starts.</summary>
internal sealed class LimitsOptionsValidator : IValidateOptions<LimitsOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, LimitsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(LimitsOptions.SectionName);
        problems.Range(nameof(options.MaxBatchRecords), options.MaxBatchRecords, 1, 1_000_000);
        problems.Range(nameof(options.MaxDimension), options.MaxDimension, 1, 1_048_576);
        problems.Range(nameof(options.MaxMessageBytes), options.MaxMessageBytes, 1024, int.MaxValue);
        problems.Range(nameof(options.MaxMetadataEntries), options.MaxMetadataEntries, 0, 10_000);
        problems.Range(nameof(options.MaxMetadataKeyLength), options.MaxMetadataKeyLength, 1, 65_536);
        problems.Range(nameof(options.MaxMetadataValueLength), options.MaxMetadataValueLength, 1, 1_048_576);
        problems.Range(nameof(options.MaxInputUriLength), options.MaxInputUriLength, 1, 1_048_576);
        problems.Range(nameof(options.MaxPageSize), options.MaxPageSize, 1, 100_000);
        return problems.Result;
    }
}
