using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Refuses a configuration that still uses a setting name from before the settings moved into per-feature sections
/// (e.g. <c>Chroma__IndexSaveInterval</c>): silently ignoring it would run the server with a default the operator did
/// not choose. The message names the new path.
/// </summary>
internal sealed class RenamedSettingsValidator : IValidateOptions<ChromaServerOptions>
{
    private static readonly (string Old, string New)[] Renamed =
    [
        ("MaxBatchRecords", "Limits:MaxBatchRecords"),
        ("MaxDimension", "Limits:MaxDimension"),
        ("MaxMessageBytes", "Limits:MaxMessageBytes"),
        ("MaxMetadataEntries", "Limits:MaxMetadataEntries"),
        ("MaxMetadataKeyLength", "Limits:MaxMetadataKeyLength"),
        ("MaxMetadataValueLength", "Limits:MaxMetadataValueLength"),
        ("MaxInputUriLength", "Limits:MaxInputUriLength"),
        ("MaxPageSize", "Limits:MaxPageSize"),
        ("MaxPendingIngestRecords", "Ingest:MaxPendingRecords"),
        ("IngestRetryAfter", "Ingest:RetryAfter"),
        ("IngestStreamIdleTimeout", "Ingest:StreamIdleTimeout"),
        ("IndexExactSearchThreshold", "Indexing:ExactSearchThreshold"),
        ("IndexCatchUpTimeout", "Indexing:CatchUpTimeout"),
        ("IndexSaveInterval", "Indexing:SaveInterval"),
        ("IndexPollInterval", "Indexing:PollInterval"),
        ("IndexBuildThreads", "Indexing:BuildThreads"),
        ("IndexBuildCheckpointInterval", "Indexing:BuildCheckpointInterval"),
        ("ScoringDebounce", "Scoring:Debounce"),
        ("ScoringMaxDelay", "Scoring:MaxDelay"),
        ("BackgroundWorkThreads", "Scoring:Threads"),
        ("DriftWindow", "Drift:Window"),
        ("IntegrityCheck", "Storage:IntegrityCheck"),
        ("CertificatePath", "Certificate:Path"),
        ("CertificatePassword", "Certificate:Password"),
        ("CertificateKeyPath", "Certificate:KeyPath"),
    ];

    private readonly IConfiguration _section;

    /// <summary>Whether <paramref name="key"/>, a path below <c>Chroma</c>, is one of the old names this check refuses.</summary>
    public static bool IsRenamed(string key) => Renamed.Any(r => string.Equals(r.Old, key, StringComparison.OrdinalIgnoreCase));

    /// <summary>Creates the check of <paramref name="section"/>, the <c>Chroma</c> configuration section.</summary>
    public RenamedSettingsValidator(IConfiguration section) => _section = section;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ChromaServerOptions options)
    {
        var problems = new SettingProblems(null);
        foreach (var (old, renamed) in Renamed)
        {
            if (_section[old] is not null)
            {
                var path = $"{SettingProblems.Root}:{renamed}";
                problems.Add(old, $"is no longer read: set {path} ({path.Replace(":", "__", StringComparison.Ordinal)}) instead");
            }
        }

        return problems.Result;
    }
}
