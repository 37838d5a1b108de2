using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's server-sent events stream (<c>/api/events</c>) against a real server.</summary>
[TestFixture]
public sealed class StudioEventsTests
{
    [Test]
    [CancelAfter(60_000)]
    public async Task Events_ServerStops_StreamEndsCleanlyAfterStoppingEvent(CancellationToken cancellationToken)
    {
        // A shutdown timeout longer than the test may run: the stream has to end because the server ends it, not
        // because the host stops waiting for it and resets the connection (what an open page used to see).
        var server = await RunningServer.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromMinutes(2));
        using var http = new HttpClient();
        Task? stopped = null;
        try
        {
            using var response = await http.GetAsync(new Uri(server.Server.WebEndpoint!, "/api/events"), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            var first = await reader.ReadLineAsync(cancellationToken);

            stopped = server.DisposeAsync().AsTask();
            var rest = await reader.ReadToEndAsync(cancellationToken); // a reset connection throws here
            await stopped;

            Assert.Multiple(() =>
            {
                Assert.That(first, Is.EqualTo("event: sets"), "the set counts come first");
                Assert.That(rest, Does.EndWith("event: stopping\ndata: {}\n\n"), "the last event says the server is stopping");
            });
        }
        finally
        {
            await (stopped ?? server.DisposeAsync().AsTask());
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Events_OneSetOfSeveralChanges_ChangedEventNamesOnlyThatSetAndItsCardCanBeFetchedAlone(CancellationToken cancellationToken)
    {
        // Probe X, X1/X2: every change sent every set's state (419 KB at 5,000 sets) and the page then fetched every card.
        await using var server = await RunningServer.StartAsync();
        var names = new[] { "a", "b", "c" };
        foreach (var name in names)
        {
            await server.LogAsync(Batch(Descriptor(name), "training", 0, 6));
        }

        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        using var response = await http.GetAsync("/api/events", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
        var (firstName, firstData) = await ReadEventAsync(reader, cancellationToken);

        // Act: one record into b.
        await server.LogAsync(Batch(Descriptor("b"), "production", 6, 1));
        var (nextName, nextData) = await ReadEventAsync(reader, cancellationToken);
        var card = JsonDocument.Parse(await http.GetStringAsync("/api/sets?set=b%2F1%2Femb", cancellationToken)).RootElement;

        // Assert
        var changed = nextData.GetProperty("changed");
        Assert.Multiple(() =>
        {
            Assert.That(firstName, Is.EqualTo("sets"));
            Assert.That(firstData.GetArrayLength(), Is.EqualTo(3), "the first event: every set");
            Assert.That(nextName, Is.EqualTo("changed"));
            Assert.That(changed.EnumerateArray().Select(c => c.GetProperty("setId").GetString()).Distinct(), Is.EqualTo(new[] { "b/1/emb" }));
            Assert.That(changed[0].GetProperty("total").GetInt64(), Is.GreaterThanOrEqualTo(7));
            Assert.That(nextData.GetProperty("removed").GetArrayLength(), Is.Zero);
            Assert.That(card.EnumerateArray().Select(s => s.GetProperty("setId").GetString()), Is.EqualTo(new[] { "b/1/emb" }), "/api/sets?set= gives that set alone");
        });
    }

    private static EmbeddingSetDescriptor Descriptor(string model) => new() { Model = model, ModelVersion = "1", Layer = "emb", Dimension = 8 };

    private static LogBatch Batch(EmbeddingSetDescriptor descriptor, string dataset, int first, int count) =>
        Records.Batch(descriptor, [.. Enumerable.Range(first, count).Select(i => Records.Make(
            [.. Enumerable.Range(0, 8).Select(d => (float)Math.Sin((i * 0.7) + d))],
            dataset,
            dataset == "training" ? (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : null))]);

    // The next event of the stream (comments skipped): its name and its data as JSON.
    private static async Task<(string Name, JsonElement Data)> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? name = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal) && name is not null)
            {
                return (name, JsonDocument.Parse(line["data: ".Length..]).RootElement);
            }
        }

        throw new EndOfStreamException("the stream ended");
    }
}
