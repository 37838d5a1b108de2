namespace Chroma.Studio.Tests;

/// <summary>
/// The map draws its datasets interleaved (a fixed hash of each record's sequence), not in sequence order where the
/// production records logged after training would cover it; selected points are drawn last, on top.
/// </summary>
public sealed partial class StudioMapTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Map_TrainingLoggedFirst_DrawnInterleavedWithSelectionOnTop()
    {
        // Arrange
        var page = await OpenMapAsync();

        // Act: the share of training points among the last quarter drawn (on top) against its share of all points,
        // then the last points drawn once three points are selected.
        var shares = await page.EvaluateAsync<double[]>(@"(() => {
            const m = studio.map, d = studio.data, training = d.datasets.indexOf('training') + 1, order = m.order;
            if (!order) return [-1, -1];
            const isTraining = (i) => d.dataset[i] === training ? 1 : 0;
            const top = Array.from(order.slice(m.count - Math.floor(m.count / 4)));
            let all = 0; for (let i = 0; i < m.count; i++) all += isTraining(i);
            return [top.reduce((a, i) => a + isTraining(i), 0) / top.length, all / m.count];
        })()");
        var lastDrawn = await page.EvaluateAsync<int[]>(@"(() => {
            select([0, 5, 9], false);
            const o = studio.map.order; return o ? Array.from(o.slice(o.length - 3)).sort((a, b) => a - b) : [];
        })()");
        await page.EvaluateAsync("select([], false)");

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(shares[1], Is.GreaterThan(0.5), "the fixture logs more training than production records");
            Assert.That(shares[0], Is.EqualTo(shares[1]).Within(0.1), "training is as present among the points on top as among all points");
            Assert.That(lastDrawn, Is.EqualTo(new[] { 0, 5, 9 }), "selected points are drawn last");
        });
    }
}
