using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Reliability;

/// <summary>
/// A client that goes away in the middle of an ingest stream (disposed, killed, its connection cut) is ordinary
/// traffic: the batches it had sent are stored and the server says so in one debug line, not with the ingest method's
/// exception and stack trace in every replica's log. (gRPC's own "Error reading message." entry, Information level,
/// comes from the framework's reader before the service sees anything; the tool's appsettings.json sets the gRPC
/// categories to Warning.)
/// </summary>
[TestFixture]
public sealed class ClientResetStreamTests
{
    [Test, CancelAfter(60_000)]
    public async Task Log_ClientCancelsOpenStream_LoggedAsOneDebugLineWithoutException()
    {
        // Arrange
        await using var server = await LoggedServer.StartAsync(minimumLevel: LogLevel.Debug);
        var ingest = new Ingest.IngestClient(server.Invoker);
        using var cancel = new CancellationTokenSource();
        var call = ingest.Log(cancellationToken: cancel.Token);
        await call.RequestStream.WriteAsync(Records.Batch(Records.Set(), Records.Sequence(3)));
        Assert.That(await call.ResponseStream.MoveNext(CancellationToken.None), Is.True);

        // Act: the client goes away with the stream open (an RST_STREAM to the server).
        await cancel.CancelAsync();
        call.Dispose();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!server.Logs.Entries.Any(e => e.Event.Id == 107) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        // Assert
        var withException = server.Logs.Entries
            .Where(e => e.Level >= LogLevel.Information && e.Exception is not null && e.Event.Name != "ErrorReadingMessage").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(server.Logs.Entries.Count(e => e.Event.Id == 107 && e.Level == LogLevel.Debug), Is.EqualTo(1), "one debug line says the client closed the stream");
            Assert.That(withException, Is.Empty, string.Join("\n", withException.Select(e => $"{e.Level} {e.Category} {e.Message} {e.Exception?.GetType().Name}")));
        });
    }
}
