using Chroma.Protocol.V1;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.TestSupport;
using NUnit.Framework;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// A flood of near-copies beyond <c>Chroma:Recommendations:MaxDuplicateIdsPerEntry</c>, over gRPC: its entry lists the
/// cap's highest-scored copies and duplicate_count counts them all, so paged to the end the entries and their counts
/// account for every record while no entry grows with the flood.
/// </summary>
public class RecommendationDuplicateCapTests
{
    private const int Dimension = 16;
    private const int Cap = 5;
    private const int Flood = 40;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly EmbeddingSetDescriptor Set = Records.Set(Dimension);
    private static readonly string SetId = Records.SetId(Set);

    private static Record[] Rows(float[] embeddings, string dataset, string[]? labels = null) =>
        [.. Enumerable.Range(0, embeddings.Length / Dimension).Select(i => Records.Make(embeddings.AsSpan(i * Dimension, Dimension).ToArray(), dataset, labels?[i]))];

    private static async Task<GetRecommendationsResponse> PageAsync(RunningServer server, int pageSize, string token, bool allScores = false) =>
        await server.Query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, PageSize = pageSize, PageToken = token, AllScores = allScores, WaitForAcknowledged = true },
            deadline: DateTime.UtcNow + Timeout);

    [Test, CancelAfter(120_000)]
    public async Task GetRecommendations_FloodBeyondTheCap_ListsTheCapAndCountsEveryCopy()
    {
        // Training: two classes. Production: ordinary records of both classes and a flood of near-copies of one far
        // outlier (jitter 0.01 at distance 30: far under the 0.05 near-duplicate threshold between unit embeddings).
        await using var server = await RunningServer.StartAsync(o => o.Recommendations.MaxDuplicateIdsPerEntry = Cap);
        var (training, labels) = SyntheticEmbeddings.Clusters(2, 100, Dimension, separation: 6, seed: 1);
        var (ordinary, _) = SyntheticEmbeddings.Clusters(2, 30, Dimension, separation: 6, seed: 2);
        var flood = Rows(SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 9, 30), Flood, 0.01, seed: 3), "production");
        Record[] production = [.. Rows(ordinary, "production"), .. flood];
        var acks = await server.LogAsync(Records.Batch(Set, Rows(training, "training", labels)), Records.Batch(Set, production));
        Assert.That(acks.Select(a => a.Error), Has.All.Null);

        var served = new List<Recommendation>();
        var token = "";
        do
        {
            var page = await PageAsync(server, 7, token);
            served.AddRange(page.Recommendations);
            token = page.NextPageToken;
        }
        while (token.Length > 0 && served.Count < 1_000);
        var scoreOrder = (await PageAsync(server, 1_000, "", allScores: true)).Recommendations.Select(r => r.Record.Record.Id).ToList();

        var floodIds = flood.Select(r => r.Id).ToHashSet();
        var entry = served.Single(r => floodIds.Contains(r.Record.Record.Id));
        var copiesBelowTheEntry = scoreOrder.SkipWhile(id => id != entry.Record.Record.Id).Skip(1).Where(floodIds.Contains);
        Assert.Multiple(() =>
        {
            Assert.That(entry.DuplicateIds, Has.Count.EqualTo(Cap), "the ids sent stop at the cap");
            Assert.That(entry.DuplicateCount, Is.EqualTo(Flood - 1), "the count counts every copy");
            Assert.That(entry.DuplicateIds, Is.EqualTo(copiesBelowTheEntry.Take(Cap)), "the ids sent are the highest-scored copies, in score order");
            Assert.That(served.Where(r => r != entry).Select(r => r.DuplicateCount), Has.All.Zero, "no ordinary record is a near-copy");
            Assert.That(served, Has.Count.EqualTo(production.Length - Flood + 1), "the records after the flood are served");
            Assert.That(served.Sum(r => 1 + r.DuplicateCount), Is.EqualTo(production.Length), "entries and counts account for every record once");
            Assert.That(served.SelectMany(r => r.DuplicateIds.Prepend(r.Record.Record.Id)), Is.Unique);
            Assert.That(scoreOrder, Has.Count.EqualTo(production.Length));
        });
    }
}
