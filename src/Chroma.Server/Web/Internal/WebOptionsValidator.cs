using System.Net;
using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Checks <see cref="WebOptions"/> once, when the server starts. That Studio's port differs from the gRPC port is
/// checked with the server's own settings, which know both.
/// </summary>
internal sealed class WebOptionsValidator : IValidateOptions<WebOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, WebOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(WebOptions.SectionName);
        problems.Range(nameof(options.UndoWindow), options.UndoWindow, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), "1 second and 10 minutes");
        if (options.InputRoot is { } root && (string.IsNullOrWhiteSpace(root) || !Directory.Exists(root)))
        {
            problems.Add(nameof(options.InputRoot), $"must be an existing folder (got \"{root}\")");
        }

        if (options.Enabled && options.Port is { } port)
        {
            problems.Range(nameof(options.Port), port, 0, IPEndPoint.MaxPort);
        }

        return problems.Result;
    }
}
