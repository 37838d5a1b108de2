using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Storage.Internal;

/// <summary>Checks <see cref="StorageOptions"/> once, when the server starts. The connection string is never quoted: it holds the password.</summary>
internal sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(StorageOptions.SectionName);
        if (!Enum.IsDefined(options.Provider))
        {
            problems.Add(nameof(options.Provider), $"must be Sqlite or Postgres (got {(int)options.Provider})");
        }
        else if (options.Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            problems.Add(nameof(options.ConnectionString),
                $"must be set when {problems.PathOf(nameof(options.Provider))} is Postgres");
        }
        else if (options.Provider == StorageProvider.Sqlite && !string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            // Only PostgreSQL reads it: with the provider forgotten, a replica would run on a SQLite file of its own
            // and silently split from the others.
            problems.Add(nameof(options.ConnectionString),
                $"is set, but {problems.PathOf(nameof(options.Provider))} (Chroma__Storage__Provider) is Sqlite, which does not use it: " +
                "set the provider to Postgres, or remove the connection string");
        }

        if (options.StartupTimeout < TimeSpan.Zero || options.StartupTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add(nameof(options.StartupTimeout), $"must be between 00:00:00 and 00:10:00 (got {options.StartupTimeout})");
        }

        if (!Enum.IsDefined(options.IntegrityCheck))
        {
            problems.Add(nameof(options.IntegrityCheck), $"must be Off, Quick or Full (got {options.IntegrityCheck})");
        }

        return problems.Result;
    }
}
