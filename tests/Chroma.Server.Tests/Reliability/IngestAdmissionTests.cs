using Chroma.Server.Services.Internal;

namespace Chroma.Server.Tests.Reliability;

[TestFixture]
public sealed class IngestAdmissionTests
{
    [Test]
    public void TryAdmit_UpToTheLimit_AdmitsThenShedsAndCounts()
    {
        // Arrange
        var admission = new IngestAdmission(maxPendingRecords: 100);

        // Act
        var first = admission.TryAdmit(60);
        var second = admission.TryAdmit(40);
        var third = admission.TryAdmit(1);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first && second, Is.True);
            Assert.That(third, Is.False);
            Assert.That(admission.PendingRecords, Is.EqualTo(100));
            Assert.That(admission.ShedBatches, Is.EqualTo(1));
        });
    }

    [Test]
    public void TryAdmit_BatchLargerThanLimitWhileQueueEmpty_Admitted()
    {
        // Arrange: a lone oversized batch must not be refused forever.
        var admission = new IngestAdmission(maxPendingRecords: 10);

        // Act
        var lone = admission.TryAdmit(500);
        var behindIt = admission.TryAdmit(1);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(lone, Is.True);
            Assert.That(behindIt, Is.False);
        });
    }

    [Test]
    public void Release_AfterCommit_MakesRoomAgain()
    {
        // Arrange
        var admission = new IngestAdmission(maxPendingRecords: 10);
        admission.TryAdmit(10);

        // Act
        admission.Release(10);
        var again = admission.TryAdmit(10);

        // Assert
        Assert.That(again, Is.True);
    }

    [Test, CancelAfter(10_000)]
    public async Task TryAdmit_ManyThreads_NeverOverTheLimit()
    {
        // Arrange
        var admission = new IngestAdmission(maxPendingRecords: 50);
        var peak = 0;

        // Act: four threads admit and release 7-record batches as fast as they can.
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                if (admission.TryAdmit(7))
                {
                    var now = admission.PendingRecords;
                    InterlockedMax(ref peak, now);
                    admission.Release(7);
                }
            }
        })));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(peak, Is.LessThanOrEqualTo(50));
            Assert.That(admission.PendingRecords, Is.Zero);
        });
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
