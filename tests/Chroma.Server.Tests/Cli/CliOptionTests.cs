using Chroma.Server.Cli;

namespace Chroma.Server.Tests.Cli;

/// <summary>Options a command does not take are refused before any call to a server (no server runs here).</summary>
[TestFixture]
public sealed class CliOptionTests
{
    // Port 9 (discard): nothing answers there, so a command that got past its options would fail as unreachable, not as usage.
    private const string NoServer = "http://127.0.0.1:9";

    [TestCase("export", "--set", "s/1/fc", "--format", "csv", "--datset", "training", ExpectedResult = "unknown option '--datset' for 'export' (did you mean '--dataset'?)")]
    [TestCase("recommend", "--set", "s/1/fc", "--strategey", "ood", ExpectedResult = "unknown option '--strategey' for 'recommend' (did you mean '--strategy'?)")]
    [TestCase("sets", "--no-such-option", "1", ExpectedResult = "unknown option '--no-such-option' for 'sets'")]
    [TestCase("sets", "--jsn", ExpectedResult = "unknown option '--jsn' for 'sets' (did you mean '--json'?)")]
    [TestCase("check", "--ful", ExpectedResult = "unknown option '--ful' for 'check' (did you mean '--full'?)")]
    [TestCase("sets", "--bogus-flag", "--endpoint", NoServer, ExpectedResult = "unknown option '--bogus-flag' for 'sets'")]
    [TestCase("stats", "--set=s/1/fc", "--colour=always", ExpectedResult = "unknown option '--colour' for 'stats'")]
    [CancelAfter(30_000)]
    public async Task<string> Run_UnknownOption_UsageExitNamingTheOption(params string[] args)
    {
        var run = await CliRun.RunAsync(args.Contains("--endpoint") ? args : [.. args, "--endpoint", NoServer]);

        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Usage), run.Error);
        Assert.That(run.Error.Trim().Split('\n'), Has.Length.EqualTo(1), "one line, no stack trace");
        return run.Error.Replace("chroma-server: ", string.Empty, StringComparison.Ordinal).Split(". Run", StringSplitOptions.None)[0];
    }

    [Test]
    public void Of_EveryCommand_TakesTheOptionsItsUsageNamesAndTheCommonOnes()
    {
        var export = ChromaCli.ClientCommands.Single(c => c.Name == "export");

        var options = CommandOptions.Of(export);

        Assert.That(options, Is.EquivalentTo(new[] { "set", "format", "dataset", "out", "page-size", "json", "endpoint", "api-key", "trusted-root", "timeout", "help" }));
    }
}
