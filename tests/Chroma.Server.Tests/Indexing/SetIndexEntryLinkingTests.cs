using Chroma.Server.Indexing.Internal;
using Chroma.Server.Storage;

namespace Chroma.Server.Tests.Indexing;

/// <summary>A link step's inserts stop for a query that waits for the index: the entry cancels the step's source.</summary>
[TestFixture]
public sealed class SetIndexEntryLinkingTests
{
    [Test, CancelAfter(10_000)]
    public async Task StartLinking_QueryWaitsDuringOrBeforeTheStep_CancelsItsSourceOnlyWhileTheStepRuns(CancellationToken cancellationToken)
    {
        // Arrange
        var entry = new SetIndexEntry(new StoredEmbeddingSet(1, "set", new()), _ => throw new InvalidOperationException("not loaded here"));
        using var during = new CancellationTokenSource();
        using var before = new CancellationTokenSource();
        using var after = new CancellationTokenSource();

        // Act: a step starts; a query begins to wait; the next step starts while it still waits; the query is released;
        // a step starts and ends; another query waits after it ended.
        entry.StartLinking(during);
        var cancelledBeforeAnyQuery = during.IsCancellationRequested;
        var waiting = entry.WaitIndexedAsync(5, TimeSpan.FromMinutes(1), TimeProvider.System, cancellationToken);
        var cancelledByTheQuery = during.IsCancellationRequested;
        entry.EndLinking();
        entry.StartLinking(before);
        var cancelledAtItsStart = before.IsCancellationRequested;
        entry.EndLinking();
        entry.MarkIndexedThrough(5);
        var reached = await waiting.WaitAsync(cancellationToken);
        entry.StartLinking(after);
        var cancelledWithNoQueryWaiting = after.IsCancellationRequested;
        entry.EndLinking();
        var waitingAfterTheStep = entry.WaitIndexedAsync(9, TimeSpan.FromMinutes(1), TimeProvider.System, cancellationToken);
        entry.MarkIndexedThrough(9);
        await waitingAfterTheStep.WaitAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(cancelledBeforeAnyQuery, Is.False);
            Assert.That(cancelledByTheQuery, Is.True, "a query that begins to wait stops the running step");
            Assert.That(cancelledAtItsStart, Is.True, "a step that starts while a query waits stops at once");
            Assert.That(reached, Is.True);
            Assert.That(cancelledWithNoQueryWaiting, Is.False);
            Assert.That(after.IsCancellationRequested, Is.False, "a step that ended is not cancelled by a later query");
        });
    }
}
