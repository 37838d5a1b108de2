using Chroma.Protocol.V1;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Storage;

public sealed class RecordChangeObserversTests
{
    private static readonly StoredEmbeddingSet Set = new(1, "model/1/fc", new EmbeddingSetDescriptor { Model = "model", ModelVersion = "1", Layer = "fc", Dimension = 4 });

    [Test]
    public void RecordsStored_ObserversRegisteredOutOfOrder_CalledByOrder()
    {
        // Arrange
        var calls = new List<string>();
        var observers = new RecordChangeObservers(() => [new Named("late", 200, calls), new Named("early", 100, calls), new Named("middle", 150, calls)]);

        // Act
        observers.RecordsStored(Set, []);
        observers.RecordsDeleted(Set, [1]);

        // Assert
        Assert.That(calls, Is.EqualTo(new[] { "stored:early", "stored:middle", "stored:late", "deleted:early", "deleted:middle", "deleted:late" }));
    }

    [Test]
    public void RecordsStored_ObserverThrows_OthersStillRunAndFailureCounted()
    {
        // Arrange
        var calls = new List<string>();
        var reported = new List<Exception>();
        var observers = new RecordChangeObservers(
            () => [new Throwing(), new Named("after", 100, calls)],
            (_, ex) => reported.Add(ex));

        // Act
        observers.RecordsStored(Set, []);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(new[] { "stored:after" }));
            Assert.That(observers.Failures, Is.EqualTo(1));
            Assert.That(reported.Single().Message, Is.EqualTo("observer fault"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Server_Observers_IndexesFirstThenScoring()
    {
        // Arrange
        await using var server = await RunningServer.StartAsync();

        // Act
        var observers = server.Server.Services.GetRequiredService<RecordChangeObservers>().Observers;

        // Assert
        Assert.That(observers.Select(o => o.GetType()), Is.EqualTo(new[] { typeof(EmbeddingSetIndexes), typeof(ScoringScheduler) }));
    }

    [Test, CancelAfter(30_000)]
    public async Task StoreWrites_EveryIngestAndDelete_ReachTheObserversWithoutTheCallerPassingThem()
    {
        // Arrange
        using var fixture = new StoreFixture();
        var stored = new List<long>();
        var deleted = new List<long>();
        fixture.Observers.Add(new ChangeObserver((_, inserted) => stored.AddRange(inserted.Select(i => i.Sequence)), (_, sequences) => deleted.AddRange(sequences)));
        var records = Records.Sequence(3);

        // Act
        await fixture.IngestAsync(Records.Set(), records);
        await fixture.IngestAsync(Records.Set(), records); // duplicates: nothing new to observe
        await fixture.Store.DeleteAsync(fixture.RequireSet(Records.Set()), [records[1].Id]).WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(stored, Has.Count.EqualTo(3));
            Assert.That(deleted, Is.EqualTo(new[] { stored[1] }));
        });
    }

    private sealed class Named(string name, int order, List<string> calls) : IRecordChangeObserver
    {
        public int Order => order;

        public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted) => calls.Add("stored:" + name);

        public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences) => calls.Add("deleted:" + name);
    }

    private sealed class Throwing : IRecordChangeObserver
    {
        public int Order => 0;

        public void OnRecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted) => throw new InvalidOperationException("observer fault");

        public void OnRecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences) => throw new InvalidOperationException("observer fault");
    }
}
