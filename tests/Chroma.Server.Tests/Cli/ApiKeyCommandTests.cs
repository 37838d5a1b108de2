using System.Text.Json;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class ApiKeyCommandTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Sets_ServerRequiresKey_RefusedWithoutItOrWithAnotherAndAnsweredWithIt()
    {
        await using var server = await RunningServer.StartAsync(apiKey: "s3cret");
        var endpoint = server.Server.Endpoint.ToString();

        var without = await CliRun.RunAsync("sets", "--endpoint", endpoint);
        var wrong = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--api-key", "s3cre7");
        var with = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--api-key", "s3cret", "--json");

        Assert.Multiple(() =>
        {
            Assert.That(without.ExitCode, Is.EqualTo(CliExitCode.ServerError));
            Assert.That(without.Error, Does.Contain("(pass --api-key)"));
            Assert.That(wrong.ExitCode, Is.EqualTo(CliExitCode.ServerError));
            Assert.That(wrong.Error, Does.Contain("the --api-key given is not this server's key").And.Not.Contain("pass --api-key"), "a key was passed: the wrong one");
            Assert.That(with.ExitCode, Is.EqualTo(CliExitCode.Success), with.Error);
            Assert.That(JsonDocument.Parse(with.Output).RootElement.GetProperty("sets").GetArrayLength(), Is.Zero);
        });
    }
}
