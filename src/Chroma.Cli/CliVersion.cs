using System.Reflection;

namespace Chroma.Server.Cli;

/// <summary>The version <c>chroma-server --version</c> prints: the assembly's informational version (with the commit when built from git).</summary>
internal static class CliVersion
{
    /// <summary>Gets the version text.</summary>
    public static string Current { get; } =
        typeof(CliVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CliVersion).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
