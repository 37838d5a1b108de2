using System.Globalization;
using Chroma;

namespace Chroma.IntegrationTests.Recommendations;

/// <summary>
/// The labeling strategy through the real client and server, on a pool whose answer is known: a large redundant
/// cluster of the most uncertain records (between classes 0 and 1, away from the training rows), two small ambiguous
/// groups (between 1 and 2, between 0 and 2), confident ordinary records at a training class and far outliers the
/// model is just as unsure of.
/// </summary>
[TestFixture]
public sealed class LabelingStrategyApiTests
{
    private const int Dimension = 16;
    private const int Classes = 3;
    private const int TrainingPerClass = 60;
    private const int Ordinary = 30;
    private const int Redundant = 30;
    private const int SmallGroup = 5;
    private const int Outliers = 5;
    private const int Batch = 6;
    private static readonly TimeSpan ScoringTimeout = TimeSpan.FromSeconds(60);

    private readonly Dictionary<string, string> _kinds = [];
    private ServerFixture _fixture = null!;
    private ChromaClient _client = null!;
    private EmbeddingSet _set = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _fixture = await ServerFixture.StartAsync();
        _client = new ChromaClient(new ChromaClientOptions { Endpoint = _fixture.Endpoint, FlushInterval = TimeSpan.FromMilliseconds(10) });
        _set = _client.GetEmbeddingSet(new EmbeddingSetDescriptor("it-labeling", "1", "penultimate", Dimension));
        var random = new Random(11);
        for (var c = 0; c < Classes; c++)
        {
            for (var i = 0; i < TrainingPerClass; i++)
            {
                _set.LogTraining(Around(Centre(c), random), Label(c));
            }
        }

        Log("ordinary", Ordinary, () => Around(Centre(2), random), [0.01f, 0.01f, 0.98f]);
        Log("redundant", Redundant, () => Around(Between(0, 1), random, scale: 0.3), [0.34f, 0.33f, 0.33f]);
        Log("between12", SmallGroup, () => Around(Between(1, 2), random, scale: 0.5), [0.05f, 0.55f, 0.40f]);
        Log("between02", SmallGroup, () => Around(Between(0, 2), random, scale: 0.5), [0.55f, 0.05f, 0.40f]);
        Log("outlier", Outliers, () =>
        {
            var centre = new float[Dimension];
            centre[Classes + 3] = 60;
            return Around(centre, random, scale: 3);
        }, [0.34f, 0.33f, 0.33f]);
        await _client.FlushAsync().WaitAsync(ScoringTimeout);
        foreach (var kind in new[] { "ordinary", "redundant", "between12", "between02", "outlier" })
        {
            var page = await _client.GetRecordsAsync(_set.Descriptor.Id, new RecordQuery { Metadata = new Dictionary<string, string> { ["kind"] = kind }, PageSize = 100 });
            foreach (var record in page.Records)
            {
                _kinds[record.Id] = kind;
            }
        }

        await _client.WaitForRecommendationsAsync(_set.Descriptor.Id, Ordinary + Redundant + (2 * SmallGroup) + Outliers, ScoringTimeout);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _client.DisposeAsync();
        await _fixture.DisposeAsync();
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecommendations_LabelingStrategy_BatchCoversEveryAmbiguousRegionWithoutOutliers(CancellationToken cancellationToken)
    {
        var labeling = await _client.GetRecommendationsAsync(_set.Descriptor.Id,
            new RecommendationQuery { Strategy = RecommendationStrategy.Labeling, PageSize = Batch }, cancellationToken);
        var review = await _client.GetRecommendationsAsync(_set.Descriptor.Id,
            new RecommendationQuery { Strategy = RecommendationStrategy.OutOfDistribution, PageSize = Outliers }, cancellationToken);

        var kinds = labeling.Items.Select(i => _kinds[i.Record.Id]).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(kinds, Has.Count.EqualTo(Batch));
            Assert.That(kinds, Has.None.EqualTo("outlier"), "far-out records are for review, not labels");
            // The redundant cluster is the largest region the training data leaves uncovered (30 records between two
            // classes, against two groups of 5), so it earns more than one pick, in proportion to its mass, but it
            // does not fill the batch.
            Assert.That(kinds.Count(k => k == "redundant"), Is.InRange(1, Batch / 2), "one region does not fill the batch: " + string.Join(",", kinds));
            Assert.That(kinds, Does.Contain("between12").And.Contain("between02"), string.Join(",", kinds));
            Assert.That(review.Items.Select(i => _kinds[i.Record.Id]), Has.All.EqualTo("outlier"), "the review strategy still surfaces them");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task GetRecommendations_LabelingStrategyInPages_SameListAsOneBatch(CancellationToken cancellationToken)
    {
        var query = new RecommendationQuery { Strategy = RecommendationStrategy.Labeling, PageSize = Batch / 2 };
        var first = await _client.GetRecommendationsAsync(_set.Descriptor.Id, query, cancellationToken);
        query.PageToken = first.NextPageToken;
        var second = await _client.GetRecommendationsAsync(_set.Descriptor.Id, query, cancellationToken);
        var whole = await _client.GetRecommendationsAsync(_set.Descriptor.Id,
            new RecommendationQuery { Strategy = RecommendationStrategy.Labeling, PageSize = Batch * 5 }, cancellationToken);

        Assert.That(first.Items.Concat(second.Items).Select(i => i.Record.Id), Is.EqualTo(whole.Items.Take(Batch).Select(i => i.Record.Id)));
    }

    private void Log(string kind, int count, Func<float[]> embedding, float[] probabilities)
    {
        var predicted = Label(Array.IndexOf(probabilities, probabilities.Max()));
        for (var i = 0; i < count; i++)
        {
            _set.LogProduction(embedding(), predicted, probabilities, metadata: new Dictionary<string, string> { ["kind"] = kind });
        }
    }

    private static float[] Centre(int c)
    {
        var centre = new float[Dimension];
        centre[c] = 8;
        return centre;
    }

    private static float[] Between(int a, int b)
    {
        var centre = new float[Dimension];
        centre[a] = 4;
        centre[b] = 4;
        return centre;
    }

    private static float[] Around(float[] centre, Random random, double scale = 1)
    {
        var point = new float[centre.Length];
        for (var j = 0; j < point.Length; j++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            point[j] = centre[j] + (float)(scale * Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2));
        }

        return point;
    }

    private static string Label(int c) => c.ToString(CultureInfo.InvariantCulture);
}
