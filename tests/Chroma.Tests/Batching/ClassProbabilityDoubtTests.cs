using Chroma.Tests.Support;

namespace Chroma.Tests.Batching;

/// <summary>
/// Class probabilities that are not probabilities (logits, unnormalised scores) are sent as given but told once per
/// set: the server reads them as probabilities, drops the uncertainty signals of negative ones and rescales the rest,
/// and an outside probe found the ranking changed with no word on either side.
/// </summary>
[TestFixture]
public sealed class ClassProbabilityDoubtTests
{
    [Test, CancelAfter(10_000)]
    public async Task Log_LogitsAndUnnormalisedScores_QueuedAndToldOncePerSetNamingTheValues(CancellationToken cancellationToken)
    {
        // Arrange
        var sessions = new ScriptedIngestSessions();
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(sessions, o => o.LoggerFactory = logs);
        var logits = client.GetEmbeddingSet(new EmbeddingSetDescriptor("logits", "1", "fc", 4));
        var scores = client.GetEmbeddingSet(new EmbeddingSetDescriptor("scores", "1", "fc", 4));

        // Act
        bool[] queued =
        [
            logits.LogProduction([1, 2, 3, 4], "0", [12.5f, -4f, 3f]),
            logits.LogProduction([1, 2, 3, 4], "0", [5f, -3f, 0.2f]),
            scores.LogProduction([1, 2, 3, 4], "0", [1f, 1f, 1f]),
            scores.LogProduction([1, 2, 3, 4], "0", [0f, 0f, 0f]),
        ];
        await client.FlushAsync(cancellationToken);

        // Assert
        var told = logs.Entries.Where(e => e.Id.Id == 15).Select(e => e.Message).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(queued, Has.All.True, "sent as given");
            Assert.That(sessions.Records, Has.Count.EqualTo(4));
            Assert.That(client.CaptureErrorCount, Is.Zero, "nothing was lost");
            Assert.That(told, Has.Count.EqualTo(2), "once per set");
            Assert.That(told.Single(m => m.Contains("'" + logits.Descriptor.Id + "'", StringComparison.Ordinal)), Does.Contain("has negative values (logits?): [12.5, -4, 3]"));
            Assert.That(told.Single(m => m.Contains("'" + scores.Descriptor.Id + "'", StringComparison.Ordinal)), Does.Contain("sums to 3, not 1").And.Contain("softmax"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task Log_SoftmaxOutputInFloat_NothingTold(CancellationToken cancellationToken)
    {
        // Arrange: float softmax outputs sum to 1 within rounding.
        var logs = new RecordingLoggerProvider();
        await using var client = TestClients.Create(new ScriptedIngestSessions(), o => o.LoggerFactory = logs);
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("softmax", "1", "fc", 4));
        var logitsRow = new[] { 2.3f, -1.1f, 0.4f, 7.9f, -3.3f, 0.01f, 1.5f, 2.2f, -0.7f, 0.9f };
        var exp = logitsRow.Select(MathF.Exp).ToArray();
        var softmax = exp.Select(e => e / exp.Sum()).ToArray();

        // Act
        set.LogProduction([1, 2, 3, 4], "3", softmax);
        set.LogProduction([1, 2, 3, 4], "0", [1f, 0f]);
        await client.FlushAsync(cancellationToken);

        // Assert
        Assert.That(logs.Entries.Where(e => e.Id.Id == 15), Is.Empty);
    }
}
