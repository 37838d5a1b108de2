using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Chroma.Server.Diagnostics;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Proto = Chroma.Protocol.V1;

namespace Chroma.IntegrationTests.Diagnostics;

/// <summary>
/// The server's <c>Chroma.Server</c> meter read by a <see cref="MeterListener"/>, as OpenTelemetry or dotnet-counters read it,
/// on a real server fed through the real ingest stream: stored, duplicate and rejected records, each batch's time to its
/// ack, the index's size, and FindNearest answers. Only this server's meter is listened to (its host's meter factory is the meter's scope), so other
/// servers in the process do not count.
/// </summary>
[TestFixture]
public sealed class ServerMetricsTests
{
    private const int Dimension = 4;
    private static readonly Proto.EmbeddingSetDescriptor Set = new() { Model = "it-metrics", ModelVersion = "1", Layer = "fc", Dimension = Dimension };

    [Test, CancelAfter(60_000)]
    public async Task Meter_AfterStoredDuplicateAndRejectedBatches_CountsEachOutcomeAndTheIndexSize(CancellationToken cancellationToken)
    {
        // Arrange
        await using var fixture = await ServerFixture.StartAsync();
        using var metrics = new ServerMeterReader(fixture.Server.Services.GetRequiredService<IMeterFactory>());
        using var channel = GrpcChannel.ForAddress(fixture.Endpoint);
        var ingest = new Proto.Ingest.IngestClient(channel);
        var stored = Batch("stored", 5, nan: false);
        var invalid = Batch("invalid", 3, nan: true);
        var later = Batch("later", 4, nan: false);
        var query = new Proto.Query.QueryClient(channel);
        var nearest = new Proto.FindNearestRequest { SetId = "it-metrics/1/fc", K = 3, Embedding = new Proto.Vector() };
        nearest.Embedding.Values.AddRange([1f, 0f, 0f, 0f]);

        // Act: five records stored, the same batch again (five duplicates), a batch of three with a NaN (rejected); a
        // query (it loads the set's index from the store); four more records, and a query again (the index reads them
        // from the store as changes).
        var acks = new List<Proto.LogAck>();
        using (var call = ingest.Log(cancellationToken: cancellationToken))
        {
            foreach (var batch in new[] { stored, stored, invalid, later })
            {
                if (batch == later)
                {
                    _ = await query.FindNearestAsync(nearest, cancellationToken: cancellationToken);
                }

                await call.RequestStream.WriteAsync(batch, cancellationToken);
                Assert.That(await call.ResponseStream.MoveNext(cancellationToken), Is.True);
                acks.Add(call.ResponseStream.Current);
            }

            await call.RequestStream.CompleteAsync();
        }

        Assert.That(acks.Select(a => (a.Accepted, a.Duplicates, a.Error?.Code ?? 0)), Is.EqualTo(new[] { (5, 0, 0), (0, 5, 0), (0, 0, (int)Grpc.Core.StatusCode.InvalidArgument), (4, 0, 0) }),
            string.Join("; ", acks.Select(a => a.Error?.Message)));

        var answer = await query.FindNearestAsync(nearest, cancellationToken: cancellationToken);
        var collected = metrics.Collect();

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(answer.Neighbors, Has.Count.EqualTo(3));
            Assert.That(collected.Value("chroma.server.ingest.records", ("chroma.outcome", "stored")), Is.EqualTo(9));
            Assert.That(collected.Value("chroma.server.ingest.records", ("chroma.outcome", "duplicate")), Is.EqualTo(5));
            Assert.That(collected.Value("chroma.server.ingest.records", ("chroma.outcome", "rejected")), Is.EqualTo(3));
            Assert.That(collected.Value("chroma.server.ingest.records", ("chroma.outcome", "shed")), Is.Zero);
            Assert.That(collected.Value("chroma.server.ingest.pending"), Is.Zero);
            Assert.That(collected.Value("chroma.server.index.records", ("chroma.set", "it-metrics/1/fc"), ("chroma.index.kind", "exact")), Is.EqualTo(9),
                "the query waited until the index held everything stored before it");
            Assert.That(collected.Value("chroma.server.index.graph_records", ("chroma.set", "it-metrics/1/fc")), Is.Zero, "nine records are searched exactly");
            Assert.That(collected.Value("chroma.server.index.changes"), Is.EqualTo(4), "the first five came with the index's load");
            Assert.That(collected.Value("chroma.server.nearest.behind", ("chroma.reason", "catch_up_timeout")), Is.Zero);
            Assert.That(collected.Value("chroma.server.nearest.behind", ("chroma.reason", "far_behind")), Is.Zero);
            Assert.That(collected.Names, Does.Contain("chroma.server.scoring.passes"));
            var batches = metrics.Recorded.Where(r => r.Name == "chroma.server.ingest.batch.duration").ToList();
            Assert.That(batches.Select(b => b.Outcome), Is.EquivalentTo(new[] { "stored", "stored", "refused", "stored" }), "one duration per batch answered");
            Assert.That(batches.Select(b => b.Value), Is.All.GreaterThanOrEqualTo(0).And.All.LessThan(60));
        });
    }

    private static Proto.LogBatch Batch(string id, int records, bool nan)
    {
        var batch = new Proto.LogBatch { BatchId = id, Set = Set };
        for (var i = 0; i < records; i++)
        {
            var record = new Proto.Record { Id = Guid.CreateVersion7().ToString(), Dataset = "production", TimestampUnixMs = 1 };
            record.Embedding.AddRange([i + 1f, nan && i == records - 1 ? float.NaN : 0f, 0f, 1f]);
            batch.Records.Add(record);
        }

        return batch;
    }

    /// <summary>Listens to the <c>Chroma.Server</c> meter of one host (by its meter factory) and collects on demand.</summary>
    private sealed class ServerMeterReader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentBag<(string Name, long Value, KeyValuePair<string, object?>[] Tags)> _measurements = [];
        private readonly ConcurrentBag<(string Name, double Value, KeyValuePair<string, object?>[] Tags)> _recorded = [];

        public ServerMeterReader(IMeterFactory factory)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == ChromaServerDiagnostics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Add((instrument.Name, value, tags.ToArray())));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _recorded.Add((instrument.Name, value, tags.ToArray())));
            _listener.Start();
        }

        /// <summary>The histograms' values recorded since the listener started.</summary>
        public IReadOnlyList<(string Name, double Value, string? Outcome)> Recorded =>
            [.. _recorded.Select(r => (r.Name, r.Value, r.Tags.FirstOrDefault(t => t.Key == "chroma.outcome").Value as string))];

        public Collected Collect()
        {
            _measurements.Clear();
            _listener.RecordObservableInstruments();
            return new Collected([.. _measurements]);
        }

        public void Dispose() => _listener.Dispose();
    }

    private sealed record Collected(IReadOnlyList<(string Name, long Value, KeyValuePair<string, object?>[] Tags)> Measurements)
    {
        public IEnumerable<string> Names => Measurements.Select(m => m.Name).Distinct();

        /// <summary>The one measurement of <paramref name="name"/> with these tags (and no others).</summary>
        public long Value(string name, params (string Key, string Value)[] tags)
        {
            var matching = Measurements
                .Where(m => m.Name == name && m.Tags.Length == tags.Length
                    && tags.All(t => m.Tags.Any(mt => mt.Key == t.Key && Equals(mt.Value, t.Value))))
                .ToList();
            Assert.That(matching, Has.Count.EqualTo(1), $"{name} {string.Join(", ", tags.Select(t => $"{t.Key}={t.Value}"))}: one measurement");
            return matching[0].Value;
        }
    }
}
