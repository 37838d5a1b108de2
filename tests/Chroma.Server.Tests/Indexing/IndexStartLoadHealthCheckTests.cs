using Chroma.Server.HealthChecks;
using Chroma.Server.Indexing;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// Query readiness waits for the indexes loaded at start (probe U, U1: readiness said SERVING while FindNearest calls
/// were held 2-14 s by a load from the database at a million records).
/// </summary>
[TestFixture]
public sealed class IndexStartLoadHealthCheckTests
{
    private IndexRegistryFixture _fixture = null!;

    [SetUp]
    public void SetUp() => _fixture = new IndexRegistryFixture(threshold: 0);

    [TearDown]
    public void TearDown() => _fixture.Dispose();

    [Test, CancelAfter(30_000)]
    public async Task Check_SetWhoseIndexIsNotLoadedYet_UnhealthyUntilItIsLoaded()
    {
        // Arrange: records stored while no index listened, as after a crash or a restore.
        await _fixture.IngestUnindexedAsync(Records.Set(), Records.Sequence(20));
        var set = _fixture.Store.RequireSet(Records.Set());
        var check = new IndexStartLoadHealthCheck(_fixture.Indexes, _fixture.Store.Store);

        // Act
        var before = await check.CheckHealthAsync(new HealthCheckContext());
        await _fixture.Indexes.LoadAsync(set);
        var after = await check.CheckHealthAsync(new HealthCheckContext());

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(before.Status, Is.EqualTo(HealthStatus.Unhealthy));
            Assert.That(before.Description, Does.Contain("1 set indexes are still loading"));
            Assert.That(after.Status, Is.EqualTo(HealthStatus.Healthy));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Check_AfterTheWorkersStartLoad_HealthyForGood(CancellationToken cancellationToken)
    {
        // Arrange
        await _fixture.IngestUnindexedAsync(Records.Set(), Records.Sequence(20));
        var check = new IndexStartLoadHealthCheck(_fixture.Indexes, _fixture.Store.Store);
        using var worker = new IndexingWorker(_fixture.Indexes, _fixture.Store.Store, _fixture.Options, _fixture.Clock, NullLogger<IndexingWorker>.Instance);

        // Act
        await worker.StartAsync(cancellationToken);
        while (!_fixture.Indexes.StartLoadEnded)
        {
            await Task.Delay(10, cancellationToken);
        }

        var afterStart = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);
        await worker.StopAsync(cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(afterStart.Status, Is.EqualTo(HealthStatus.Healthy));
            Assert.That(_fixture.Indexes.GetStatus(_fixture.Store.RequireSet(Records.Set())), Is.Not.Null, "loaded");
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Check_NoSets_Healthy()
    {
        var check = new IndexStartLoadHealthCheck(_fixture.Indexes, _fixture.Store.Store);

        var result = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.That(result.Status, Is.EqualTo(HealthStatus.Healthy));
    }
}
