using Chroma.Server.Hosting;
using Chroma.Server.Retention;

namespace Chroma.IntegrationTests.Retention;

/// <summary>
/// Retention in a real server (configured rules, the hosted worker's own schedule, SQLite): old production records
/// go, recent ones and other datasets stay, and the counts the API reports follow.
/// </summary>
[TestFixture]
public sealed class RetentionHostTests
{
    [Test, CancelAfter(60_000)]
    public async Task RetentionRule_OldProductionRecords_DeletedInTheBackgroundAndCountsFollow(CancellationToken cancellationToken)
    {
        // Arrange: a rule for production older than one hour, run every second.
        var dataDirectory = Path.Combine(Path.GetTempPath(), "chroma-it-retention-" + Guid.NewGuid().ToString("N"));
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = dataDirectory };
        options.Retention.Interval = TimeSpan.FromSeconds(1);
        options.Retention.Rules.Add(new RetentionRule { Set = RetentionRule.EverySet, Dataset = ChromaDatasets.Production, MaxAge = TimeSpan.FromHours(1) });
        await using var server = await ChromaServer.StartAsync(options, cancellationToken);
        var descriptor = new EmbeddingSetDescriptor("it-retention", "1", "fc", 4);

        // Records stamped two hours ago (the client's clock decides the timestamp) and records stamped now.
        await using (var oldClient = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, TimeProvider = new ShiftedClock(TimeSpan.FromHours(-2)) }))
        {
            var oldSet = oldClient.GetEmbeddingSet(descriptor);
            for (var i = 0; i < 40; i++)
            {
                oldSet.LogTraining([i, 0, 0, 0], label: "a");
                oldSet.LogProduction([i, 1, 0, 0], predictedClass: "a");
            }

            await oldClient.FlushAsync(cancellationToken);
        }

        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint });
        var set = client.GetEmbeddingSet(descriptor);
        for (var i = 0; i < 15; i++)
        {
            set.LogProduction([i, 2, 0, 0], predictedClass: "a");
        }

        await client.FlushAsync(cancellationToken);

        // Act: the hosted worker runs on its own schedule (first run a few seconds after the start); nothing in this
        // test subscribes to the worker or calls it, as in a real deployment.
        long production = -1;
        while (production != 15)
        {
            await Task.Delay(200, cancellationToken);
            production = await client.CountAsync(descriptor.Id, ChromaDatasets.Production, cancellationToken: cancellationToken);
        }

        // Assert
        var info = (await client.ListSetsAsync(cancellationToken)).Single(s => s.SetId == descriptor.Id);
        var remaining = await client.GetRecordsAsync(descriptor.Id, new RecordQuery { Dataset = ChromaDatasets.Production, PageSize = 100, IncludeEmbeddings = true }, cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(info.Datasets.Single(d => d.Dataset == ChromaDatasets.Production).Count, Is.EqualTo(15), "only the recent production records stay");
            Assert.That(info.Datasets.Single(d => d.Dataset == ChromaDatasets.Training).Count, Is.EqualTo(40), "the rule does not touch training");
            Assert.That(remaining.Records.Select(r => r.Embedding.Span[1]), Is.All.EqualTo(2f), "the old records are the ones gone");
        });
    }

    /// <summary>The system clock moved by a fixed offset: stamps records in the past while timers run in real time.</summary>
    private sealed class ShiftedClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + offset;
    }
}
