using System.Threading.Channels;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// The notices replicas of one PostgreSQL database wake each other's scoring with, as the server's change listener
/// hears them on a real database: a commit, a published pass (and none for a pass the lease refused), a waiting request.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresNoticeListenerTests : PostgresReplicaPairTest
{
    [Test, CancelAfter(120_000)]
    public async Task Listener_CommitPublishAndWaitingRequestOnOtherReplica_SinksHearEachOnceAndARefusedPublishNot(CancellationToken cancellationToken)
    {
        // Arrange: B listens, as a replica's server does; A stores, scores and publishes.
        var set = await SeedAsync();
        var sink = new RecordingSink();
        using var listener = new PostgresChangeListener(Database.ConnectionString, [sink], sink, TimeProvider.System, NullLogger<PostgresChangeListener>.Instance);
        await listener.StartAsync(cancellationToken);
        Assert.That(await sink.NextAsync(cancellationToken), Is.EqualTo("missed"), "the listener reports a (re)connect first");
        var lease = (await A.Coordination.TryAcquireAsync(set, "a", Lease, cancellationToken))!;

        // Act
        await A.Records.IngestAsync(set.SetId, Records.Set(), StoreFixture.Prepare(Records.Sequence(3, start: 50)), cancellationToken);
        var committed = await sink.NextAsync(cancellationToken);
        var newest = B.Coordination.ReadWatermarks().Single().LastSequence;
        var revision = await A.Coordination.PublishPassAsync(lease, newest, 0, 0, cancellationToken);
        var published = await sink.NextAsync(cancellationToken);
        Clock.Advance(Lease + TimeSpan.FromMilliseconds(1));
        var takenOver = (await B.Coordination.TryAcquireAsync(set, "b", Lease, cancellationToken))!;
        var refused = await A.Coordination.PublishPassAsync(lease, newest, 0, 0, cancellationToken);
        await B.Coordination.RequestPassAsync(set, newest, 2, cancellationToken);
        var wanted = await sink.NextAsync(cancellationToken);
        var revisionOfNewHolder = await B.Coordination.PublishPassAsync(takenOver, newest, 0, 0, cancellationToken);
        var publishedByNewHolder = await sink.NextAsync(cancellationToken);
        await listener.StopAsync(cancellationToken);

        // Assert: the refused publish sent nothing, so the next notice after it is the waiting request's.
        Assert.Multiple(() =>
        {
            Assert.That(committed, Is.EqualTo($"commit {set.Key}:{newest}"));
            Assert.That(revision, Is.EqualTo(1));
            Assert.That(published, Is.EqualTo($"ranking {set.Key}:1"));
            Assert.That(refused, Is.Null, "the old holder's publish is fenced off");
            Assert.That(wanted, Is.EqualTo($"wanted {set.Key}:{newest}:2"));
            Assert.That(revisionOfNewHolder, Is.EqualTo(2));
            Assert.That(publishedByNewHolder, Is.EqualTo($"ranking {set.Key}:2"));
            Assert.That(sink.Pending, Is.Zero, "nothing else was heard");
        });
    }

    // Records what the listener tells it, one line per call.
    internal sealed class RecordingSink : IStoreChangeSink, IScoringChangeSink
    {
        private readonly Channel<string> _heard = Channel.CreateUnbounded<string>();

        public int Pending => _heard.Reader.Count;

        public void OnCommitted(long setKey, long sequence) => _heard.Writer.TryWrite($"commit {setKey}:{sequence}");

        public void OnChangesMissed() => _heard.Writer.TryWrite("missed");

        public void OnRankingPublished(long setKey, long revision) => _heard.Writer.TryWrite($"ranking {setKey}:{revision}");

        public void OnPassWanted(long setKey, long throughSequence, long throughDeletes) =>
            _heard.Writer.TryWrite($"wanted {setKey}:{throughSequence}:{throughDeletes}");

        public async Task<string> NextAsync(CancellationToken cancellationToken) =>
            await _heard.Reader.ReadAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(20), cancellationToken);

        public List<string> Drain()
        {
            var lines = new List<string>();
            while (_heard.Reader.TryRead(out var line))
            {
                lines.Add(line);
            }

            return lines;
        }
    }
}
