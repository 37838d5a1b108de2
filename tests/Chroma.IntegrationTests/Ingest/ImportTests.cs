using Chroma;
using Chroma.Server.Hosting;
using Chroma.Server.Retention;

namespace Chroma.IntegrationTests.Ingest;

/// <summary><see cref="ChromaClient.ImportAsync"/> against a real server: records keep their ids and timestamps, a second import stores nothing, a rejection names the record.</summary>
[TestFixture]
public sealed class ImportTests
{
    [Test, CancelAfter(60_000)]
    public async Task ImportAsync_SameRecordsTwice_StoredOnceWithTheirIdsAndTimestamps(CancellationToken cancellationToken)
    {
        // Arrange
        await using var server = await ServerFixture.StartAsync();
        await using var client = new ChromaClient(server.Endpoint);
        var set = new EmbeddingSetDescriptor("import", "1", "fc", dimension: 2);
        var captured = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var records = Enumerable.Range(0, 25).Select(i => new ImportRecord
        {
            Id = Guid.CreateVersion7(captured.AddSeconds(i)).ToString(),
            Dataset = i % 5 == 0 ? ChromaDatasets.Production : ChromaDatasets.Training,
            Embedding = new[] { i, 1f },
            Label = i % 5 == 0 ? null : (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
            PredictedClass = i % 5 == 0 ? "1" : null,
            ClassProbabilities = i % 5 == 0 ? new[] { 0.25f, 0.75f } : default(ReadOnlyMemory<float>),
            Metadata = new Dictionary<string, string> { ["row"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            Timestamp = captured.AddSeconds(i),
        }).ToList();
        var progress = new List<int>();

        // Act
        var first = await client.ImportAsync(set, records, batchSize: 10, new ListProgress(progress), cancellationToken);
        var again = await client.ImportAsync(set, records, batchSize: 10, cancellationToken: cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((first.Accepted, first.Duplicates, first.Sent, first.Error), Is.EqualTo((25L, 0L, 25L, (string?)null)));
            Assert.That((again.Accepted, again.Duplicates, again.Error), Is.EqualTo((0L, 25L, (string?)null)));
            Assert.That(progress, Is.EqualTo(new[] { 10, 10, 5 }));
        });
        var stored = await client.GetRecordsAsync(set.Id, new RecordQuery { PageSize = 100, IncludeEmbeddings = true }, cancellationToken);
        Assert.That(stored.Records, Has.Count.EqualTo(25));
        var fifth = stored.Records.Single(r => r.Id == records[5].Id);
        Assert.Multiple(() =>
        {
            Assert.That(fifth.Timestamp, Is.EqualTo(captured.AddSeconds(5)));
            Assert.That(fifth.Dataset, Is.EqualTo(ChromaDatasets.Production));
            Assert.That(fifth.Embedding.ToArray(), Is.EqualTo(new[] { 5f, 1f }));
            Assert.That(fifth.PredictedClass, Is.EqualTo("1"));
            Assert.That(fifth.ClassProbabilities.ToArray(), Is.EqualTo(new[] { 0.25f, 0.75f }));
            Assert.That(fifth.Metadata["row"], Is.EqualTo("5"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task ImportAsync_RecordOfAnotherDimension_StopsWithTheServersMessageAndTheRecordsIndex(CancellationToken cancellationToken)
    {
        await using var server = await ServerFixture.StartAsync();
        await using var client = new ChromaClient(server.Endpoint);
        var set = new EmbeddingSetDescriptor("import", "1", "bad", dimension: 2);
        ImportRecord[] records =
        [
            new() { Embedding = new[] { 1f, 2f } },
            new() { Embedding = new[] { 1f, 2f } },
            new() { Embedding = new[] { 1f, 2f } },
            new() { Embedding = new[] { 1f, 2f, 3f } },
            new() { Embedding = new[] { 1f, 2f } },
        ];

        var result = await client.ImportAsync(set, records, batchSize: 2, cancellationToken: cancellationToken);

        Assert.Multiple(() =>
        {
            // The first batch is stored; the second (records 2 and 3) is rejected whole, naming its record 3; the third is never sent.
            Assert.That((result.Accepted, result.Sent), Is.EqualTo((2L, 4L)));
            Assert.That(result.Error, Does.Contain("dimension").IgnoreCase);
            Assert.That((result.ErrorRecordIndex, result.ErrorIsRecord), Is.EqualTo(((long?)3, true)));
        });
        Assert.That(await client.CountAsync(set.Id, cancellationToken: cancellationToken), Is.EqualTo(2));
    }

    [Test, CancelAfter(60_000)]
    public async Task ImportAsync_SkipInvalidRecords_SkipsEachWithItsIndexIdAndReasonStoresTheRest(CancellationToken cancellationToken)
    {
        // Arrange: records 1 and 2 (one batch, both invalid) and 4 (beside valid ones) are refused by the server.
        await using var server = await ServerFixture.StartAsync();
        await using var client = new ChromaClient(server.Endpoint);
        var set = new EmbeddingSetDescriptor("import", "1", "skip", dimension: 2);
        var ids = Enumerable.Range(0, 6).Select(i => new Guid(i + 1, 0, 0, new byte[8]).ToString()).ToArray();
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero); // fixed, so importing again finds the same content
        ImportRecord[] records =
        [
            new() { Id = ids[0], Timestamp = at, Embedding = new[] { 1f, 2f } },
            new() { Id = ids[1], Timestamp = at, Embedding = new[] { 1f, 2f, 3f } },
            new() { Id = ids[2], Timestamp = at, Embedding = new[] { 1f } },
            new() { Id = ids[3], Timestamp = at, Embedding = new[] { 3f, 4f } },
            new() { Id = ids[4], Timestamp = at, Embedding = new[] { 5f, 6f }, Label = new string('x', 2_000) },
            new() { Id = ids[5], Timestamp = at, Embedding = new[] { 7f, 8f } },
        ];
        var progress = new List<int>();

        // Act: batches of 2: {r0, r1}, {r2, r3}, {r4, r5}.
        var result = await client.ImportAsync(set, records, new ImportOptions { BatchSize = 2, SkipInvalidRecords = true, Progress = new ListProgress(progress) }, cancellationToken);
        var again = await client.ImportAsync(set, records, new ImportOptions { BatchSize = 2, SkipInvalidRecords = true }, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That((result.Accepted, result.Sent, result.Error), Is.EqualTo((3L, 6L, (string?)null)));
            Assert.That(result.Skipped.Select(r => (r.Index, r.Id)), Is.EqualTo(new[] { (1L, ids[1]), (2L, ids[2]), (4L, ids[4]) }));
            Assert.That(result.Skipped[2].Message, Does.Contain("label"));
            Assert.That(progress.Sum(), Is.EqualTo(6), "every record sent is reported, skipped ones included");
            Assert.That((again.Accepted, again.Duplicates, again.Skipped.Count), Is.EqualTo((0L, 3L, 3)), "a second import stores nothing twice");
        });
        Assert.That(await client.CountAsync(set.Id, cancellationToken: cancellationToken), Is.EqualTo(3));
    }

    [Test, CancelAfter(60_000)]
    public async Task ListSetsAsync_ServerWithARetentionRule_ReportsTheRuleOnTheSet(CancellationToken cancellationToken)
    {
        // Arrange: a rule for production records older than 30 days, on every set.
        var directory = Path.Combine(Path.GetTempPath(), "chroma-it-" + Guid.NewGuid().ToString("N"));
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory };
        options.Retention.Rules.Add(new RetentionRule { Set = RetentionRule.EverySet, Dataset = ChromaDatasets.Production, MaxAge = TimeSpan.FromDays(30) });
        try
        {
            await using var server = await ChromaServer.StartAsync(options, cancellationToken);
            await using var client = new ChromaClient(server.Endpoint);
            var set = new EmbeddingSetDescriptor("retained", "1", "fc", dimension: 2);
            await client.ImportAsync(set, [new ImportRecord { Embedding = new[] { 1f, 2f } }], cancellationToken: cancellationToken);

            // Act
            var info = (await client.ListSetsAsync(cancellationToken)).Single(s => s.SetId == set.Id);

            // Assert
            var rule = info.Retention.Single();
            Assert.Multiple(() =>
            {
                Assert.That(rule.Dataset, Is.EqualTo(ChromaDatasets.Production));
                Assert.That(rule.MaxAge, Is.EqualTo(TimeSpan.FromDays(30)));
                Assert.That(rule.LastRunDeleted, Is.Zero);
                Assert.That(rule.DeletedTotal, Is.Zero);
            });
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private sealed class ListProgress(List<int> reports) : IProgress<int>
    {
        public void Report(int value) => reports.Add(value);
    }
}
