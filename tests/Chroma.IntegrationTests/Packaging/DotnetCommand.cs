namespace Chroma.IntegrationTests.Packaging;

/// <summary>Runs the <c>dotnet</c> CLI as a child process and keeps its output for the failure message.</summary>
internal static class DotnetCommand
{
    public static Task<(int ExitCode, string Output)> RunAsync(string workingDirectory, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync("dotnet", arguments, cancellationToken, workingDirectory);

    public static async Task<string> RunCheckedAsync(string workingDirectory, CancellationToken cancellationToken, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync(workingDirectory, arguments, cancellationToken);
        Assert.That(exitCode, Is.Zero, $"dotnet {string.Join(' ', arguments)} failed:\n{output}");
        return output;
    }
}
