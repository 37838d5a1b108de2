using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Security.Internal;

/// <summary>Checks <see cref="CertificateOptions"/> once, when the server starts (the password is never quoted).</summary>
internal sealed class CertificateOptionsValidator : IValidateOptions<CertificateOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, CertificateOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(CertificateOptions.SectionName);
        if (options.Path is null && (options.KeyPath is not null || options.Password is not null))
        {
            problems.Add(nameof(options.Path),
                $"must be set when {problems.PathOf(nameof(options.KeyPath))} or {problems.PathOf(nameof(options.Password))} is");
        }

        if (options.Path is not null && !File.Exists(options.Path))
        {
            problems.Add(nameof(options.Path), $"names no file (got \"{options.Path}\")");
        }

        if (options.KeyPath is not null && !File.Exists(options.KeyPath))
        {
            problems.Add(nameof(options.KeyPath), $"names no file (got \"{options.KeyPath}\")");
        }

        return problems.Result;
    }
}
