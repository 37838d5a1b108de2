using System.Globalization;
using System.Net;
using Chroma.Server.Recommendations;
using Chroma.Server.Retention;
using Chroma.Server.Storage;

namespace Chroma.Server.Hosting.Internal;

/// <summary>Rejects options a server cannot run with, before anything is bound or opened.</summary>
internal static class ChromaServerOptionsValidator
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad setting.</summary>
    public static void Validate(ChromaServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (FirstProblem(options) is { } problem)
        {
            throw new ArgumentException($"ChromaServerOptions.{problem}.", nameof(options));
        }
    }

    /// <summary>Whether Kestrel can bind <paramref name="host"/> without a name lookup.</summary>
    public static bool IsSupportedHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || host == "*"
        || IPAddress.TryParse(host, out _);

    private static string? FirstProblem(ChromaServerOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.Host) || !IsSupportedHost(o.Host))
        {
            return $"Host must be \"localhost\", \"*\" or an IP address (got \"{o.Host}\")";
        }

        if (string.IsNullOrWhiteSpace(o.DataDirectory))
        {
            return "DataDirectory must name a folder";
        }

        if (StorageProblem(o.Storage) is { } storage)
        {
            return storage;
        }

        if (o.ApiKey is not null && string.IsNullOrWhiteSpace(o.ApiKey))
        {
            return "ApiKey must be null (no authentication) or a non-blank key";
        }

        if (o.CertificatePath is null && (o.CertificateKeyPath is not null || o.CertificatePassword is not null))
        {
            return "CertificatePath must be set when CertificateKeyPath or CertificatePassword is";
        }

        if (o.CertificatePath is not null && !File.Exists(o.CertificatePath))
        {
            return $"CertificatePath names no file (got \"{o.CertificatePath}\")";
        }

        if (o.CertificateKeyPath is not null && !File.Exists(o.CertificateKeyPath))
        {
            return $"CertificateKeyPath names no file (got \"{o.CertificateKeyPath}\")";
        }

        if (o.IngestRetryAfter < TimeSpan.FromMilliseconds(1) || o.IngestRetryAfter > TimeSpan.FromMinutes(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"IngestRetryAfter must be between 1 ms and 1 minute (got {o.IngestRetryAfter})");
        }

        if (o.ScoringDebounce < TimeSpan.Zero || o.ScoringDebounce > TimeSpan.FromHours(1))
        {
            return $"ScoringDebounce must be between 0 and 1 hour (got {o.ScoringDebounce})";
        }

        if (o.ScoringMaxDelay < o.ScoringDebounce || o.ScoringMaxDelay > TimeSpan.FromHours(1))
        {
            return $"ScoringMaxDelay must be between ScoringDebounce ({o.ScoringDebounce}) and 1 hour (got {o.ScoringMaxDelay})";
        }

        if (o.IndexCatchUpTimeout < TimeSpan.Zero || o.IndexCatchUpTimeout > TimeSpan.FromMinutes(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"IndexCatchUpTimeout must be between 0 and 1 minute (got {o.IndexCatchUpTimeout})");
        }

        if (o.IndexSaveInterval < TimeSpan.FromSeconds(1) || o.IndexSaveInterval > TimeSpan.FromDays(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"IndexSaveInterval must be between 1 second and 1 day (got {o.IndexSaveInterval})");
        }

        if (o.IndexPollInterval < TimeSpan.FromMilliseconds(100) || o.IndexPollInterval > TimeSpan.FromHours(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"IndexPollInterval must be between 100 ms and 1 hour (got {o.IndexPollInterval})");
        }

        if (!Enum.IsDefined(o.IntegrityCheck))
        {
            return $"IntegrityCheck must be Off, Quick or Full (got {o.IntegrityCheck})";
        }

        if (o.IngestStreamIdleTimeout < TimeSpan.Zero || o.IngestStreamIdleTimeout > TimeSpan.FromDays(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"IngestStreamIdleTimeout must be between 0 (never) and 1 day (got {o.IngestStreamIdleTimeout})");
        }

        if (o.ShutdownTimeout < TimeSpan.FromSeconds(1) || o.ShutdownTimeout > TimeSpan.FromMinutes(5))
        {
            return string.Create(CultureInfo.InvariantCulture, $"ShutdownTimeout must be between 1 second and 5 minutes (got {o.ShutdownTimeout})");
        }

        if (o.IndexBuildCheckpointInterval < TimeSpan.FromSeconds(1) || o.IndexBuildCheckpointInterval > TimeSpan.FromDays(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"IndexBuildCheckpointInterval must be between 1 second and 1 day (got {o.IndexBuildCheckpointInterval})");
        }

        if (WebProblem(o) is { } webProblem)
        {
            return webProblem;
        }

        if ((ScoringProblem(o.Scoring) ?? RetentionProblem(o.Retention)) is { } coordinationProblem)
        {
            return coordinationProblem;
        }

        return Range(nameof(o.Port), o.Port, 0, IPEndPoint.MaxPort)
            ?? Range(nameof(o.MaxBatchRecords), o.MaxBatchRecords, 1, 1_000_000)
            ?? Range(nameof(o.MaxDimension), o.MaxDimension, 1, 1_048_576)
            ?? Range(nameof(o.MaxMessageBytes), o.MaxMessageBytes, 1024, int.MaxValue)
            ?? Range(nameof(o.MaxMetadataEntries), o.MaxMetadataEntries, 0, 10_000)
            ?? Range(nameof(o.MaxMetadataKeyLength), o.MaxMetadataKeyLength, 1, 65_536)
            ?? Range(nameof(o.MaxMetadataValueLength), o.MaxMetadataValueLength, 1, 1_048_576)
            ?? Range(nameof(o.MaxInputUriLength), o.MaxInputUriLength, 1, 1_048_576)
            ?? Range(nameof(o.MaxPageSize), o.MaxPageSize, 1, 100_000)
            ?? Range(nameof(o.MaxPendingIngestRecords), o.MaxPendingIngestRecords, 1, 10_000_000)
            ?? Range(nameof(o.DriftWindow), o.DriftWindow, 2, 100_000)
            ?? Range(nameof(o.IndexExactSearchThreshold), o.IndexExactSearchThreshold, 0, int.MaxValue)
            ?? Range(nameof(o.IndexBuildThreads), o.IndexBuildThreads, 0, 1024)
            ?? Range(nameof(o.BackgroundWorkThreads), o.BackgroundWorkThreads, 0, 1024);
    }

    private static string? WebProblem(ChromaServerOptions o)
    {
        if (o.Web is null)
        {
            return "Web must be set (use Web.Enabled = false to turn Studio off)";
        }

        if (o.Web.UndoWindow < TimeSpan.FromSeconds(1) || o.Web.UndoWindow > TimeSpan.FromMinutes(10))
        {
            return string.Create(CultureInfo.InvariantCulture, $"Web.UndoWindow must be between 1 second and 10 minutes (Chroma:Web:UndoWindow, got {o.Web.UndoWindow})");
        }

        if (o.Web.InputRoot is { } root && (string.IsNullOrWhiteSpace(root) || !Directory.Exists(root)))
        {
            return $"Web.InputRoot must be an existing folder (Chroma:Web:InputRoot, Chroma__Web__InputRoot, got \"{root}\")";
        }

        if (!o.Web.Enabled || o.Web.Port is not { } port)
        {
            return null;
        }

        if (port < 0 || port > IPEndPoint.MaxPort)
        {
            return string.Create(CultureInfo.InvariantCulture, $"Web.Port must be between 0 and {IPEndPoint.MaxPort} (got {port})");
        }

        return port != 0 && port == o.Port
            ? string.Create(CultureInfo.InvariantCulture, $"Web.Port must differ from Port: Studio (HTTP/1.1) and gRPC (HTTP/2) need their own ports (both are {port})")
            : null;
    }

    private static string? ScoringProblem(ScoringOptions? scoring)
    {
        if (scoring is null)
        {
            return "Scoring must be set (Chroma:Scoring)";
        }

        if (scoring.LeaseDuration < TimeSpan.FromSeconds(1) || scoring.LeaseDuration > TimeSpan.FromHours(1))
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"Scoring.LeaseDuration must be between 1 second and 1 hour (Chroma:Scoring:LeaseDuration, got {scoring.LeaseDuration})");
        }

        if (scoring.ChangePollInterval < TimeSpan.FromMilliseconds(50) || scoring.ChangePollInterval > TimeSpan.FromMinutes(1)
            || scoring.ChangePollInterval > scoring.LeaseDuration / 3)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"Scoring.ChangePollInterval must be between 50 ms and 1 minute and at most a third of Scoring.LeaseDuration ({scoring.LeaseDuration}) (Chroma:Scoring:ChangePollInterval, got {scoring.ChangePollInterval})");
        }

        return null;
    }

    private static string? RetentionProblem(RetentionOptions? retention)
    {
        if (retention is null || retention.Rules is null)
        {
            return "Retention must be set (Chroma:Retention), with a list of Rules (may be empty)";
        }

        if (retention.Interval < TimeSpan.FromSeconds(1) || retention.Interval > TimeSpan.FromDays(1))
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"Retention.Interval must be between 1 second and 1 day (Chroma:Retention:Interval, got {retention.Interval})");
        }

        if (Range("Retention.BatchSize", retention.BatchSize, 1, 100_000) is { } batch)
        {
            return batch + " (Chroma:Retention:BatchSize)";
        }

        var seen = new HashSet<(string, string)>();
        for (var i = 0; i < retention.Rules.Count; i++)
        {
            var rule = retention.Rules[i];
            var key = string.Create(CultureInfo.InvariantCulture, $"Chroma:Retention:Rules:{i}");
            var name = string.Create(CultureInfo.InvariantCulture, $"Retention.Rules[{i}]");
            if (rule is null)
            {
                return $"{name} must be set ({key})";
            }

            if (string.IsNullOrWhiteSpace(rule.Set))
            {
                return $"{name}.Set must name an embedding set id, or \"*\" for every set ({key}:Set)";
            }

            if (string.IsNullOrWhiteSpace(rule.Dataset))
            {
                return $"{name}.Dataset must name a dataset, e.g. \"production\" ({key}:Dataset)";
            }

            if (rule.MaxAge < TimeSpan.FromMinutes(1) || rule.MaxAge > TimeSpan.FromDays(36_525))
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"{name}.MaxAge must be between 1 minute and 100 years, e.g. 30.00:00:00 for 30 days ({key}:MaxAge, got {rule.MaxAge})");
            }

            if (!seen.Add((rule.Set, rule.Dataset)))
            {
                return $"{name} repeats the rule for set \"{rule.Set}\" and dataset \"{rule.Dataset}\" ({key}); keep one";
            }
        }

        return null;
    }

    // The connection string itself is never quoted: it holds the password.
    private static string? StorageProblem(StorageOptions? storage) => storage switch
    {
        null => "Storage must be set (Chroma:Storage)",
        { Provider: not (StorageProvider.Sqlite or StorageProvider.Postgres) } =>
            $"Storage.Provider must be Sqlite or Postgres (Chroma:Storage:Provider, got {(int)storage.Provider})",
        { Provider: StorageProvider.Postgres, ConnectionString: var cs } when string.IsNullOrWhiteSpace(cs) =>
            "Storage.ConnectionString must be set when Storage.Provider is Postgres (Chroma:Storage:ConnectionString, Chroma__Storage__ConnectionString)",
        _ => null,
    };

    private static string? Range(string name, int value, int min, int max) =>
        value < min || value > max
            ? string.Create(CultureInfo.InvariantCulture, $"{name} must be between {min} and {max} (got {value})")
            : null;
}
