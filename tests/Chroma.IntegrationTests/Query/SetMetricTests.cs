using System.Globalization;
using System.Text.RegularExpressions;
using Chroma;
using Grpc.Net.Client;
using Proto = Chroma.Protocol.V1;

namespace Chroma.IntegrationTests.Query;

/// <summary>
/// A metric per embedding set through the real client and server: the same records logged into an L2 set and a
/// cosine set; FindNearest answers in each set's metric, and every neighbour signal and reason of the
/// recommendations is re-derived by a user with FindNearest on the training dataset.
/// </summary>
[TestFixture]
public sealed partial class SetMetricTests
{
    private const int Dimension = 12;
    private const int Classes = 3;
    private const int TrainingPerClass = 50;
    private const int ProductionCount = 40;
    private const int K = 10;
    private static readonly TimeSpan ScoringTimeout = TimeSpan.FromSeconds(90);

    private readonly Dictionary<string, float[]> _logged = new(StringComparer.Ordinal);
    private ServerFixture _fixture = null!;
    private ChromaClient _client = null!;
    private EmbeddingSet _l2 = null!;
    private EmbeddingSet _cosine = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _fixture = await ServerFixture.StartAsync();
        _client = new ChromaClient(new ChromaClientOptions { Endpoint = _fixture.Endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });
        _l2 = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-metric", "1", "l2", Dimension) { Metric = DistanceMetric.L2 });
        _cosine = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-metric", "1", "cosine", Dimension) { Metric = DistanceMetric.Cosine });

        // The same records in both sets. Norms vary a lot (0.3x to 3x), so L2 and cosine pick different neighbours.
        var random = new Random(11);
        for (var i = 0; i < Classes * TrainingPerClass; i++)
        {
            var c = i % Classes;
            var embedding = Scaled(Around(Centre(c), random), 0.3 + (2.7 * random.NextDouble()));
            _logged[$"train-{i}"] = embedding;
            foreach (var set in new[] { _l2, _cosine })
            {
                set.LogTraining(embedding, Label(c), inputUri: $"train-{i}");
            }
        }

        // Production records between classes 0 and 1 (predicted 0): their neighbours disagree.
        for (var i = 0; i < ProductionCount; i++)
        {
            var mix = random.NextDouble();
            var centre = Centre(0).Zip(Centre(1), (a, b) => (float)((a * (1 - mix)) + (b * mix))).ToArray();
            var embedding = Scaled(Around(centre, random), 0.3 + (2.7 * random.NextDouble()));
            foreach (var set in new[] { _l2, _cosine })
            {
                set.LogProduction(embedding, "0", inputUri: $"prod-{i}");
            }
        }

        await _client.FlushAsync().WaitAsync(ScoringTimeout);
        Assert.That(_client.Statistics.Failed, Is.Zero, "every batch accepted");
        await _client.WaitForRecommendationsAsync(_l2.Descriptor.Id, ProductionCount, ScoringTimeout);
        await _client.WaitForRecommendationsAsync(_cosine.Descriptor.Id, ProductionCount, ScoringTimeout);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _client.DisposeAsync();
        await _fixture.DisposeAsync();
    }

    [Test, CancelAfter(30_000)]
    public async Task ListSets_SetsCreatedWithEachMetric_ReportTheirMetric(CancellationToken cancellationToken)
    {
        var sets = (await _client.ListSetsAsync(cancellationToken)).ToDictionary(s => s.SetId);

        Assert.Multiple(() =>
        {
            Assert.That(sets[_l2.Descriptor.Id].Descriptor.Metric, Is.EqualTo(DistanceMetric.L2));
            Assert.That(sets[_cosine.Descriptor.Id].Descriptor.Metric, Is.EqualTo(DistanceMetric.Cosine));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task FindNearest_CosineSet_ReportsOneMinusCosineAndL2SetSquaredEuclidean(CancellationToken cancellationToken)
    {
        // Arrange
        var query = Scaled(Centre(2), 5);

        // Act
        var cosine = await _client.FindNearestAsync(_cosine.Descriptor.Id, query, new NearestQuery { K = 5, Exact = true, Dataset = "training" }, cancellationToken);
        var l2 = await _client.FindNearestAsync(_l2.Descriptor.Id, query, new NearestQuery { K = 5, Exact = true, Dataset = "training" }, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cosine.Select(n => (double)n.Distance), Is.EqualTo(cosine.Select(n => CosineDistance(_logged[n.Record.InputUri!], query))).Within(1e-5));
            Assert.That(l2.Select(n => (double)n.Distance), Is.EqualTo(l2.Select(n => SquaredL2(_logged[n.Record.InputUri!], query))).Within(1e-3));
            Assert.That(cosine.Select(n => n.Distance), Is.Ordered.Ascending);
            Assert.That(l2.Select(n => n.Distance), Is.Ordered.Ascending);
        });
    }

    [TestCase("l2")]
    [TestCase("cosine")]
    [CancelAfter(60_000)]
    public async Task GetRecommendations_EveryNeighbourSignalAndReason_IsReproducedByFindNearestOnTraining(string layer, CancellationToken cancellationToken)
    {
        // Arrange
        var setId = layer == "l2" ? _l2.Descriptor.Id : _cosine.Descriptor.Id;
        var scored = new List<ChromaRecommendation>();
        await foreach (var item in _client.GetAllScoresAsync(setId, cancellationToken: cancellationToken))
        {
            scored.Add(item);
        }

        var disagreeReasons = 0;
        Assert.That(scored, Has.Count.EqualTo(ProductionCount));
        foreach (var item in scored)
        {
            // Act: what a user runs to check the reason.
            var neighbours = await _client.FindNearestToRecordAsync(
                setId, item.Record.Id, new NearestQuery { K = K, Dataset = "training", Exact = true }, cancellationToken);

            // Assert: boundary = share of the 10 nearest training records whose label is not the prediction;
            // knn_distance = their mean distance in the set's metric.
            var disagreeing = neighbours.Count(n => n.Record.Label != item.Record.PredictedClass);
            Assert.That(neighbours, Has.Count.EqualTo(K));
            Assert.That(item.Signal("boundary")!.Value, Is.EqualTo(disagreeing / (double)K).Within(1e-9), $"{layer} {item.Record.InputUri}");
            Assert.That(item.Signal("knn_distance")!.Value, Is.EqualTo(neighbours.Average(n => (double)n.Distance)).Within(0.01).Percent, $"{layer} {item.Record.InputUri}");
            foreach (var reason in item.Reasons)
            {
                if (DisagreeReason().Match(reason) is { Success: true } match)
                {
                    disagreeReasons++;
                    var count = int.Parse(match.Groups["count"].Value, CultureInfo.InvariantCulture);
                    Assert.That(match.Groups["k"].Value, Is.EqualTo("10"));
                    Assert.That(neighbours.Count(n => n.Record.Label == match.Groups["class"].Value), Is.EqualTo(count), $"{layer} {item.Record.InputUri}: {reason}");
                }
            }
        }

        Assert.That(disagreeReasons, Is.GreaterThan(0), "the boundary records should carry 'neighbours disagree' reasons");
    }

    [Test, CancelAfter(60_000)]
    public async Task FindNearest_SameRecordsInBothSets_NeighboursDifferBetweenMetrics(CancellationToken cancellationToken)
    {
        // The two sets hold the same vectors: a difference can only come from the metric.
        var differing = 0;
        for (var i = 0; i < ProductionCount; i++)
        {
            var uri = $"prod-{i}";
            var l2 = await NeighbourUrisAsync(_l2.Descriptor.Id, uri, cancellationToken);
            var cosine = await NeighbourUrisAsync(_cosine.Descriptor.Id, uri, cancellationToken);
            differing += l2.SetEquals(cosine) ? 0 : 1;
        }

        Assert.That(differing, Is.GreaterThan(ProductionCount / 2));
    }

    [Test, CancelAfter(30_000)]
    public async Task Log_BatchNamesOtherMetricThanTheSet_FailedPreconditionNamingBoth(CancellationToken cancellationToken)
    {
        // Arrange: a raw batch, as another client would send it.
        using var channel = GrpcChannel.ForAddress(_fixture.Endpoint);
        var ingest = new Proto.Ingest.IngestClient(channel);
        var batch = new Proto.LogBatch
        {
            BatchId = "metric-mismatch",
            Set = new Proto.EmbeddingSetDescriptor { Model = "it-metric", ModelVersion = "1", Layer = "l2", Dimension = Dimension, Metric = Proto.DistanceMetric.Cosine },
        };
        var record = new Proto.Record { Id = Guid.CreateVersion7().ToString(), Dataset = "production" };
        record.Embedding.AddRange(Centre(1));
        batch.Records.Add(record);

        // Act
        using var call = ingest.Log(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(batch, cancellationToken);
        await call.RequestStream.CompleteAsync();
        Assert.That(await call.ResponseStream.MoveNext(cancellationToken), Is.True);
        var ack = call.ResponseStream.Current;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ack.Error?.Code, Is.EqualTo((int)Grpc.Core.StatusCode.FailedPrecondition));
            Assert.That(ack.Error?.Message, Does.StartWith("set.metric: is cosine, but embedding set 'it-metric/1/l2' was created with metric l2"));
            Assert.That(ack.Accepted, Is.Zero);
        });
    }

    private async Task<HashSet<string>> NeighbourUrisAsync(string setId, string inputUri, CancellationToken cancellationToken)
    {
        var page = await _client.GetRecordsAsync(setId, new RecordQuery { Dataset = "production", IncludeEmbeddings = true, PageSize = 1000 }, cancellationToken);
        var record = page.Records.Single(r => r.InputUri == inputUri);
        var neighbours = await _client.FindNearestToRecordAsync(setId, record.Id, new NearestQuery { K = K, Dataset = "training", Exact = true }, cancellationToken);
        return [.. neighbours.Select(n => n.Record.InputUri!)];
    }

    [GeneratedRegex("^neighbours disagree: (?<count>[0-9]+) of (?<k>[0-9]+) are class (?<class>.+)$")]
    private static partial Regex DisagreeReason();

    private static float[] Centre(int c)
    {
        var centre = new float[Dimension];
        centre[c] = 3;
        centre[(c + 3) % Dimension] = 1;
        return centre;
    }

    private static float[] Around(float[] centre, Random random) =>
        [.. centre.Select(x => x + (float)((random.NextDouble() - 0.5) * 1.6))];

    private static float[] Scaled(float[] vector, double factor) => [.. vector.Select(x => (float)(x * factor))];

    private static string Label(int c) => c.ToString(CultureInfo.InvariantCulture);

    private static double CosineDistance(ReadOnlySpan<float> a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < b.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }

        return 1 - (dot / Math.Sqrt(na * nb));
    }

    private static double SquaredL2(ReadOnlySpan<float> a, float[] b)
    {
        double sum = 0;
        for (var i = 0; i < b.Length; i++)
        {
            sum += (a[i] - b[i]) * (a[i] - b[i]);
        }

        return sum;
    }
}
