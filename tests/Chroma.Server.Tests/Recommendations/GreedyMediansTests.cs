using Chroma.Server.Recommendations;
using Chroma.Server.Tests.Recommendations.Data;
using NUnit.Framework;

namespace Chroma.Server.Tests.Recommendations;

/// <summary>
/// Greedy k-medians on two tight clusters of unit vectors whose answer is known: a large one around e0 (40 rows) and
/// a small one around e1 (20 rows), with and without facilities already in place.
/// </summary>
public class GreedyMediansTests
{
    private const int Dimension = 4;
    private const int Large = 40;
    private const int Small = 20;

    [Test]
    public void Order_NoExistingFacilities_FirstPickIsInTheLargerCluster()
    {
        var units = Units();

        var picks = Order(units, initialReach: null, count: 2);

        Assert.That(picks.Select(p => p < Large ? "large" : "small"), Is.EqualTo(new[] { "large", "small" }));
    }

    [Test]
    public void Order_ExistingFacilityCoversTheLargerCluster_FirstPicksGoToTheUncoveredCluster()
    {
        var units = Units();

        // The large cluster sits on facilities already placed (distance 0.01, closer than its rows are to each other),
        // the small one far from any (1.2).
        var reach = Enumerable.Range(0, Large + Small).Select(r => r < Large ? 0.01 : 1.2).ToArray();
        var picks = Order(units, reach, count: 3);

        Assert.That(picks, Has.All.GreaterThanOrEqualTo(Large), "the uncovered cluster is worth more than the larger, covered one");
    }

    [Test]
    public void Order_EveryClientAlreadyCovered_StopsAfterOnePick()
    {
        var units = Units();

        var picks = Order(units, Enumerable.Repeat(0.0, Large + Small).ToArray(), count: 10);

        Assert.That(picks, Has.Count.EqualTo(1), "no row lowers any distance, so the list ends after its first entry");
    }

    [Test]
    public void Order_WithExistingFacilities_LongerListStartsWithTheShorterOne()
    {
        var units = Units();
        var reach = Enumerable.Range(0, Large + Small).Select(r => r % 3 == 0 ? 0.1 : 1.5).ToArray();

        var five = Order(units, reach, count: 5);
        var twenty = Order(units, reach, count: 20);

        Assert.That(twenty.Take(5), Is.EqualTo(five));
    }

    private static List<int> Order(float[] units, double[]? initialReach, int count)
    {
        var rows = units.Length / Dimension;
        var clients = Enumerable.Range(0, rows).ToArray();
        return [.. GreedyMedians.Order(units, Dimension, clients, [.. Enumerable.Repeat(1.0, rows)], clients, count, duplicateDistance: 0, initialReach).Select(p => p.Row)];
    }

    private static float[] Units()
    {
        var rows = new List<float>();
        rows.AddRange(SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 0, 1), Large, 0.05, seed: 7));
        rows.AddRange(SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 1, 1), Small, 0.05, seed: 8));
        var units = rows.ToArray();
        for (var r = 0; r < units.Length / Dimension; r++)
        {
            var row = units.AsSpan(r * Dimension, Dimension);
            var norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }

        return units;
    }
}
