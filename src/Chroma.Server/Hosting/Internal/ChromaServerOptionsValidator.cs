using System.Globalization;
using System.Net;
using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Checks the hosting settings of <see cref="ChromaServerOptions"/> (host, port, data directory, API key, shutdown
/// timeout, and that Studio's port differs from the gRPC port) once, when the server starts. Each feature section has
/// its own validator.
/// </summary>
internal sealed class ChromaServerOptionsValidator : IValidateOptions<ChromaServerOptions>
{
    /// <summary>Whether Kestrel can bind <paramref name="host"/> without a name lookup.</summary>
    public static bool IsSupportedHost(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || host == "*"
        || IPAddress.TryParse(host, out _);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ChromaServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new SettingProblems(null);
        if (string.IsNullOrWhiteSpace(options.Host) || !IsSupportedHost(options.Host))
        {
            problems.Add(nameof(options.Host), $"must be \"localhost\", \"*\" or an IP address (got \"{options.Host}\")");
        }

        problems.Range(nameof(options.Port), options.Port, 0, IPEndPoint.MaxPort);
        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            problems.Add(nameof(options.DataDirectory), "must name a folder");
        }

        if (options.ApiKey is not null && string.IsNullOrWhiteSpace(options.ApiKey))
        {
            problems.Add(nameof(options.ApiKey), "must be null (no authentication) or a non-blank key");
        }

        if (options.PreviousApiKey is not null)
        {
            if (string.IsNullOrWhiteSpace(options.PreviousApiKey))
            {
                problems.Add(nameof(options.PreviousApiKey), "must be null or a non-blank key");
            }
            else if (options.ApiKey is null)
            {
                problems.Add(nameof(options.PreviousApiKey), "is set, but Chroma:ApiKey (Chroma__ApiKey) is not: set the new key there");
            }
            else if (string.Equals(options.PreviousApiKey, options.ApiKey, StringComparison.Ordinal))
            {
                problems.Add(nameof(options.PreviousApiKey), "is the same as Chroma:ApiKey (Chroma__ApiKey): set the new key there and the old one here");
            }
        }

        problems.Range(nameof(options.ShutdownTimeout), options.ShutdownTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), "1 second and 5 minutes");
        if (options.Web is { Enabled: true, Port: { } webPort and not 0 } && webPort == options.Port)
        {
            problems.Add("Web:Port", string.Create(CultureInfo.InvariantCulture,
                $"must differ from {problems.PathOf(nameof(options.Port))}: Studio (HTTP/1.1) and gRPC (HTTP/2) need their own ports (both are {webPort})"));
        }

        return problems.Result;
    }
}
