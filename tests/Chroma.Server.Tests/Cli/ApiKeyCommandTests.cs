using System.Text.Json;
using Chroma.Server.Cli;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

[TestFixture]
public sealed class ApiKeyCommandTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Sets_ServerRequiresKey_RefusedWithoutItAndAnsweredWithIt()
    {
        await using var server = await RunningServer.StartAsync(apiKey: "s3cret");
        var endpoint = server.Server.Endpoint.ToString();

        var without = await CliRun.RunAsync("sets", "--endpoint", endpoint);
        var with = await CliRun.RunAsync("sets", "--endpoint", endpoint, "--api-key", "s3cret", "--json");

        Assert.Multiple(() =>
        {
            Assert.That(without.ExitCode, Is.EqualTo(CliExitCode.ServerError));
            Assert.That(without.Error, Does.Contain("--api-key"));
            Assert.That(with.ExitCode, Is.EqualTo(CliExitCode.Success), with.Error);
            Assert.That(JsonDocument.Parse(with.Output).RootElement.GetProperty("sets").GetArrayLength(), Is.Zero);
        });
    }
}
