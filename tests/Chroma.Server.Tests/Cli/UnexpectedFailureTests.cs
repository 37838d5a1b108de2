using Chroma.Server.Cli;
using Spectre.Console;

namespace Chroma.Server.Tests.Cli;

/// <summary>A defect inside a command (an exception nobody expected) is one line and exit code 1, never a stack trace.</summary>
[TestFixture]
public sealed class UnexpectedFailureTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Run_CommandThrowsUnexpectedly_OneLineAndExitCodeOne()
    {
        var error = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, Out = new AnsiConsoleOutput(new StringWriter()) });

        var exitCode = await ChromaCli.RunAsync(["explode"], [new ThrowingCommand()], console, new StringWriter(), error).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(exitCode, Is.EqualTo(CliExitCode.ServerError));
        Assert.That(error.ToString().TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace");
        Assert.That(error.ToString(), Does.StartWith("chroma-server: explode failed: ArgumentOutOfRangeException: Valid values are"));
    }

    private sealed class ThrowingCommand : ICliCommand
    {
        public string Name => "explode";

        public string Usage => "explode";

        // The exception the probe saw: its message spans two lines ("Actual value was ..." on the second).
        public Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult((int)DateTimeOffset.FromUnixTimeMilliseconds(253_402_300_800_000).Offset.TotalHours);
    }
}
