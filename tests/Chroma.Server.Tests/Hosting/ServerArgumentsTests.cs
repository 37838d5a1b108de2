using Chroma.Server.Hosting.Internal;

namespace Chroma.Server.Tests.Hosting;

/// <summary>
/// <c>chroma-server [serve]</c> and <c>migrate</c> refuse words that are not settings (probe V, V13: <c>serve --port
/// 6000</c> started a server on the configured port with <c>--port</c> dropped, <c>serve --help</c> started a server,
/// <c>migrate --bogus</c> migrated), as the other commands refuse an option they do not take: exit code 2.
/// </summary>
[TestFixture]
public sealed class ServerArgumentsTests
{
    [TestCase]
    [TestCase("--Chroma:Port=6000")]
    [TestCase("--Chroma:Port", "6000")]
    [TestCase("/Chroma:Port", "6000")]
    [TestCase("Chroma:Port=6000")]
    [TestCase("--Chroma:Storage:Provider=Postgres", "--Logging:LogLevel:Default", "Debug")]
    [TestCase("--environment", "Production")]
    [TestCase("--urls=http://127.0.0.1:6000")]
    public void Problem_Settings_None(params string[] args)
    {
        Assert.That(ServerArguments.Problem(args, "serve"), Is.Null);
    }

    [TestCase("unknown option '--port' for 'serve'", "--port", "6000")]
    [TestCase("unknown option '--bogus' for 'serve'", "--bogus")]
    [TestCase("unknown option '--port=6000' for 'serve'", "--port=6000")]
    [TestCase("unexpected 'extra' for 'serve'", "--Chroma:Port=6000", "extra")]
    [TestCase("'--Chroma:Port' for 'serve' needs a value", "--Chroma:Port")]
    [TestCase("'--help' for 'serve' comes first", "--Chroma:Port=6000", "--help")]
    [TestCase("unknown option '--:Port=1' for 'serve'", "--:Port=1")]
    [TestCase("unknown option '--Chroma__Port=6000' for 'serve': that is an environment variable's spelling; on the command line write --Chroma:Port=6000", "--Chroma__Port=6000")]
    public void Problem_NotASetting_SaysWhich(string expected, params string[] args)
    {
        var problem = ServerArguments.Problem(args, "serve");

        Assert.That(problem, Does.StartWith(expected));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task RunAsync_UnknownOption_UsageExitWithoutStarting()
    {
        using var error = new StringWriter();
        using var data = new TestSupport.TempDirectory();

        var code = await StandaloneServer.RunAsync(["--port", "1", $"--Chroma:DataDirectory={data.Path}/never"], error);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2), error.ToString());
            Assert.That(error.ToString(), Does.Contain("unknown option '--port' for 'serve'").And.Contain("--Chroma:Port=6000"));
            Assert.That(Directory.Exists(Path.Combine(data.Path, "never")), Is.False, "no data directory made: nothing started");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task MigrateAsync_UnknownOption_UsageExitWithoutMigrating()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var data = new TestSupport.TempDirectory();

        var code = await StandaloneServer.MigrateAsync(["--bogus", $"--Chroma:DataDirectory={data.Path}/never"], output, error);

        Assert.Multiple(() =>
        {
            Assert.That(code, Is.EqualTo(2), error.ToString());
            Assert.That(error.ToString(), Does.Contain("unknown option '--bogus' for 'migrate'"));
            Assert.That(Directory.Exists(Path.Combine(data.Path, "never")), Is.False);
        });
    }
}
