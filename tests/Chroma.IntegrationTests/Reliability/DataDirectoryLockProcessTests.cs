namespace Chroma.IntegrationTests.Reliability;

/// <summary>
/// One <c>chroma-server</c> process per data directory: a second is refused with exit code 9 while the first runs, the
/// offline <c>check</c> still reads the database, and a SIGKILLed server leaves no lock behind.
/// </summary>
[TestFixture]
public sealed class DataDirectoryLockProcessTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    [Test, CancelAfter(240_000)]
    public async Task Serve_DataDirectoryOfARunningServer_ExitCode9ThenFreeAfterKill(CancellationToken cancellationToken)
    {
        // Arrange
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-it-lock-" + Guid.NewGuid().ToString("N"));
        await using var server = new ServerProcess(dataDirectory, ServerProcess.FreePort(), deleteDataOnDispose: true);
        await server.StartAsync(cancellationToken);

        // Act
        var second = await ServerProcess.RunToExitAsync(new Dictionary<string, string> { ["Chroma__DataDirectory"] = dataDirectory }, Timeout);
        var check = await ServerProcess.RunToExitAsync(new Dictionary<string, string>(), Timeout, "check", "--data-directory", dataDirectory);
        await server.KillAsync();
        await server.StartAsync(cancellationToken, Timeout);

        // Assert: the restart after SIGKILL reached SERVING, so the dead process's lock was gone.
        var lines = second.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That(second.ExitCode, Is.EqualTo(9), second.Error + second.Output);
            Assert.That(lines, Has.Length.EqualTo(1), second.Error);
            Assert.That(lines.FirstOrDefault(), Does.StartWith("chroma-server: ").And.Contain(dataDirectory).And.Contain("another Chroma server"));
            Assert.That(second.Error + second.Output, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(check.ExitCode, Is.EqualTo(0), "check reads the database of a running server: " + check.Error + check.Output);
        });
    }
}
