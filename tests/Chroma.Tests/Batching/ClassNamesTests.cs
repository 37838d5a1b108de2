using Chroma.Tests.Support;

namespace Chroma.Tests.Batching;

[TestFixture]
public sealed class ClassNamesTests
{
    private static readonly EmbeddingSetDescriptor s_descriptor = new("named", "1", "fc", 4);

    [TestCase(2)]
    [TestCase(4)]
    [CancelAfter(10_000)]
    public async Task Log_ProbabilitiesDifferInNumberFromClassNames_ReturnsFalseCountedAndLoggedOnceNamingTheSet(int probabilityCount, CancellationToken cancellationToken)
    {
        // Arrange
        var sessions = new ScriptedIngestSessions();
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o => o.LoggerFactory = logs);
        var set = client.GetEmbeddingSet(s_descriptor, ["cat", "dog", "bird"]);
        var probabilities = Enumerable.Repeat(1f / probabilityCount, probabilityCount).ToArray();

        // Act
        var first = set.LogProduction([1, 2, 3, 4], "cat", probabilities);
        var second = set.LogProduction([1, 2, 3, 4], "cat", probabilities);
        var matching = set.LogProduction([1, 2, 3, 4], "cat", [0.5f, 0.25f, 0.25f]);
        await client.FlushAsync(cancellationToken);

        // Assert
        var problems = logs.Entries.Where(e => e.Message.Contains("class probabilities", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.False);
            Assert.That(second, Is.False);
            Assert.That(matching, Is.True);
            Assert.That(client.Statistics.DroppedInvalid, Is.EqualTo(2));
            Assert.That(client.CaptureErrorCount, Is.EqualTo(2));
            Assert.That(problems, Has.Count.EqualTo(1), "each kind is logged once per set");
            Assert.That(problems[0].Message, Does.Contain($"{probabilityCount} class probabilities for set '{s_descriptor.Id}' with 3 class names"));
            Assert.That(sessions.Records, Has.Count.EqualTo(1));
            Assert.That(sessions.Records[0].Inference.ClassNames, Is.EqualTo(new[] { "cat", "dog", "bird" }));
        });
    }

    [Test, CancelAfter(20_000)]
    public async Task GetEmbeddingSet_NullClassName_ThrowsAndDeliveryOfOtherSetsGoesOn(CancellationToken cancellationToken)
    {
        // Arrange: a list of class names with a hole (a label map that missed one), and another, healthy set.
        var sessions = new ScriptedIngestSessions();
        await using var client = TestClients.Create(sessions, o => o.FlushInterval = TimeSpan.FromHours(1));
        var healthy = client.GetEmbeddingSet(new EmbeddingSetDescriptor("healthy", "1", "fc", 4));

        // Act: as WithClassNames does, the null name is refused up front; accepted, the first record with probabilities
        // stopped the batching loop, and no record of any set was delivered after it.
        Exception? ex = null;
        try
        {
            var named = client.GetEmbeddingSet(s_descriptor, ["cat", null!]);
            named.LogProduction([1, 2, 3, 4], "cat", [0.5f, 0.5f]);
        }
        catch (ArgumentException caught)
        {
            ex = caught;
        }

        healthy.LogTraining([1, 2, 3, 4], "0");
        var flush = client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
        var flushError = await flush.ContinueWith(t => t.Exception?.GetBaseException(), TaskScheduler.Default);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex, Is.InstanceOf<ArgumentException>().With.Property(nameof(ArgumentException.ParamName)).EqualTo("classNames"));
            Assert.That(flushError, Is.Null, "the flush completes");
            Assert.That(client.Statistics.Exported, Is.EqualTo(1), "the healthy set's record is delivered");
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Log_SetWithoutClassNames_AnyNumberOfProbabilitiesQueued(CancellationToken cancellationToken)
    {
        // Arrange
        await using var client = TestClients.Create(new ScriptedIngestSessions());
        var set = client.GetEmbeddingSet(s_descriptor);

        // Act
        var queued = set.LogProduction([1, 2, 3, 4], "0", [0.1f, 0.2f, 0.3f, 0.4f, 0f]);
        await client.FlushAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(queued, Is.True);
            Assert.That(client.Statistics.Exported, Is.EqualTo(1));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task GetEmbeddingSet_SameIdOtherClassNames_ThrowsNamingBothLists(CancellationToken cancellationToken)
    {
        // Arrange
        await using var client = TestClients.Create(new ScriptedIngestSessions());
        client.GetEmbeddingSet(s_descriptor, ["cat", "dog"]);

        // Act
        var ex = Assert.Throws<ArgumentException>(() => client.GetEmbeddingSet(s_descriptor, ["dog", "cat"]));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo("classNames"));
            Assert.That(ex.Message, Does.Contain("already has class names [cat, dog], not [dog, cat]"));
        });
        await Task.CompletedTask.WaitAsync(cancellationToken);
    }

    [Test, CancelAfter(10_000)]
    public async Task GetEmbeddingSet_FirstWithoutNamesThenWithNames_ThrowsNamingBoth(CancellationToken cancellationToken)
    {
        // Arrange
        await using var client = TestClients.Create(new ScriptedIngestSessions());
        client.GetEmbeddingSet(s_descriptor);

        // Act
        var ex = Assert.Throws<ArgumentException>(() => client.GetEmbeddingSet(s_descriptor, ["cat", "dog"]));

        // Assert
        Assert.That(ex!.Message, Does.Contain("already has class names none (\"0\"..\"n-1\"), not [cat, dog]"));
        await Task.CompletedTask.WaitAsync(cancellationToken);
    }

    [Test, CancelAfter(10_000)]
    public async Task GetEmbeddingSet_SameNamesOrNone_ReturnsTheSameHandle(CancellationToken cancellationToken)
    {
        // Arrange
        await using var client = TestClients.Create(new ScriptedIngestSessions());
        var first = client.GetEmbeddingSet(s_descriptor, ["cat", "dog"]);

        // Act
        var sameNames = client.GetEmbeddingSet(s_descriptor, ["cat", "dog"]);
        var noNames = client.GetEmbeddingSet(s_descriptor);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(sameNames, Is.SameAs(first));
            Assert.That(noNames, Is.SameAs(first));
            Assert.That(noNames.ClassNames, Is.EqualTo(new[] { "cat", "dog" }));
        });
        await Task.CompletedTask.WaitAsync(cancellationToken);
    }
}
