using System.Globalization;
using System.Text.RegularExpressions;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// The replica that does not score a set reads, after each pass of the scoring replica, only the scores written since
/// its last read and the records deleted since (schema 10's score stamps). Before (outside-in probe H, H3), it read the
/// set's whole stored ranking after every pass: seconds per tens of thousands of records, its ranking behind meanwhile.
/// What it serves must stay what a whole read serves, through ingest and deletes on either replica and a refit.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed partial class FollowingAcrossReplicasTests : PostgresDatabaseTest
{
    private static readonly EmbeddingSetDescriptor Set = Records.Set(dimension: 4, model: "follow-across");
    private static readonly string SetId = Records.SetId(Set);

    [Test, CancelAfter(240_000)]
    public async Task OtherReplica_IngestDeletesAndRefitThroughEither_ServesWhatAWholeReadServesReadingOnlyWhatChanged(CancellationToken cancellationToken)
    {
        // Arrange: A scores the set (passes run when a request waits); B serves what A stored, read whole the first time.
        await using var a = await StartReplicaAsync(LogLevel.Warning);
        await using var b = await StartReplicaAsync(LogLevel.Debug);
        var (queryA, queryB) = (new Query.QueryClient(a.Invoker), new Query.QueryClient(b.Invoker));
        var seeded = await ScoringFailureReportingTests.SeedAsync(a, Set);
        var steps = new List<(string Step, IReadOnlyList<string> A, IReadOnlyList<string> B)>();
        async Task CompareAsync(string step)
        {
            await ScoringFailureReportingTests.WaitAsync(queryA, SetId);
            await ScoringFailureReportingTests.WaitAsync(queryB, SetId);
            steps.Add((step, await WholeAsync(queryA, cancellationToken), await WholeAsync(queryB, cancellationToken)));
        }

        await CompareAsync("seeded");

        // Act: production through A, then through B; deletes through both; training through A (a refit); more production.
        var first = Production(30, seed: 1);
        await PostgresReplicaServers.LogAsync(a, Records.Batch(Set, first), cancellationToken);
        await CompareAsync("30 records through A");
        await PostgresReplicaServers.LogAsync(b, Records.Batch(Set, Production(20, seed: 2)), cancellationToken);
        await CompareAsync("20 records through B");
        await queryB.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { first[0].Id, first[1].Id, seeded[0].Id } }, cancellationToken: cancellationToken);
        await queryA.DeleteRecordsAsync(new DeleteRecordsRequest { SetId = SetId, Ids = { first[2].Id } }, cancellationToken: cancellationToken);
        await CompareAsync("4 deleted through B and A");
        var training = Enumerable.Range(0, 6).Select(i => Records.Make([i % 2 == 0 ? 4 : -4, i * 0.3f, 1, 0], "training", i % 2 == 0 ? "a" : "b")).ToArray();
        await PostgresReplicaServers.LogAsync(a, Records.Batch(Set, training), cancellationToken);
        await CompareAsync("refit after training through A");
        await PostgresReplicaServers.LogAsync(a, Records.Batch(Set, Production(10, seed: 3)), cancellationToken);
        await CompareAsync("10 records through A after the refit");

        // A replica started now reads the stored ranking whole at its start, and then only what changes.
        await using var c = await StartReplicaAsync(LogLevel.Debug);
        var queryC = new Query.QueryClient(c.Invoker);
        await ScoringFailureReportingTests.WaitAsync(queryC, SetId);
        var wholeC = await WholeAsync(queryC, cancellationToken);
        await PostgresReplicaServers.LogAsync(a, Records.Batch(Set, Production(7, seed: 4)), cancellationToken);
        await ScoringFailureReportingTests.WaitAsync(queryA, SetId);
        await ScoringFailureReportingTests.WaitAsync(queryC, SetId);
        var (laterA, laterC) = (await WholeAsync(queryA, cancellationToken), await WholeAsync(queryC, cancellationToken));

        // Assert
        var follows = Follows(b);
        var followsC = Follows(c);
        Assert.Multiple(() =>
        {
            foreach (var (step, rankingA, rankingB) in steps)
            {
                Assert.That(rankingB, Is.EqualTo(rankingA), $"{step}: B serves A's ranking (ids and scores, score order)");
                Assert.That(rankingA, Is.Not.Empty, step);
            }

            Assert.That(wholeC, Is.EqualTo(steps[^1].B), "a whole read by a new replica serves what B's reads of the changes built");
            Assert.That(follows, Has.Count.GreaterThanOrEqualTo(4), "B read the changes after each pass but the first (event 336)");
            Assert.That(follows.Where(f => f.Changed < f.Total), Is.Not.Empty, "and read fewer rows than the ranking holds");
            Assert.That(follows.Any(f => f.Changed == 30 && f.Total == 36), Is.True, "the 30 records logged through A were the rows read then");
            Assert.That(laterC, Is.EqualTo(laterA), "C, after 7 more records through A, serves A's ranking");
            Assert.That(c.Logs.Entries.Count(e => e.Event.Id == 335), Is.Zero, "C read the ranking whole once, at its start (event 301), not again");
            Assert.That(followsC.Any(f => f.Changed == 7), Is.True, "C's first read after A's next pass took the 7 new scores");
        });
    }

    // The reads of what changed a replica logged (event 336): rows read, rows in the ranking after.
    private static List<(int Changed, int Total)> Follows(LoggedServer server) =>
    [
        .. server.Logs.Entries.Where(e => e.Event.Id == 336).Select(e => FollowedLine().Match(e.Message)).Where(m => m.Success)
            .Select(m => (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))),
    ];

    // How many records are scored, then every score of the set in score order (diversity off): record id and score.
    private static async Task<IReadOnlyList<string>> WholeAsync(Query.QueryClient query, CancellationToken cancellationToken)
    {
        var page = await query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = SetId, PageSize = 1_000, AllScores = true, Diversity = Diversity.Off },
            cancellationToken: cancellationToken);
        return
        [
            string.Create(CultureInfo.InvariantCulture, $"scored {page.ScoredRecords}, results {page.TotalResults}, stale {page.Stale}"),
            .. page.Recommendations.Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Record.Record.Id} {r.Score:R}")),
        ];
    }

    private static Record[] Production(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Records.Make([(float)(random.NextDouble() * 10 - 5), (float)random.NextDouble(), 1, 0], "production"))];
    }

    private Task<LoggedServer> StartReplicaAsync(LogLevel minimumLevel) => PostgresReplicaServers.StartAsync(
        Database.ConnectionString,
        scoring =>
        {
            scoring.Debounce = TimeSpan.FromMinutes(5);
            scoring.MaxDelay = TimeSpan.FromMinutes(10);
            scoring.ChangePollInterval = TimeSpan.FromMilliseconds(200);
        },
        minimumLevel: minimumLevel);

    [GeneratedRegex(@"^Read the (\d+) scores .*\((\d+) records\)$")]
    private static partial Regex FollowedLine();
}
