using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>The training rows the engine fits on carry the class probabilities that calibrate the uncertainty signals.</summary>
public sealed class TrainingProbabilitiesTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task ReadTraining_RecordsWithAndWithoutProbabilities_ReturnsThemPerRow()
    {
        using var fixture = new StoreFixture();
        var set = Records.Set();
        var withProbabilities = Records.Make([1, 0, 0, 0], "training", "a");
        var without = Records.Make([0, 1, 0, 0], "training", "b");
        without.Inference = null;
        await fixture.IngestAsync(set, withProbabilities, without);

        var rows = fixture.Scores.ReadTraining(fixture.RequireSet(set));

        Assert.That(rows.Labels, Is.EqualTo(new[] { "a", "b" }));
        Assert.That(rows.Probabilities, Is.Not.Null);
        Assert.That(rows.Probabilities![0], Is.EqualTo(new[] { 0.25f, 0.75f }));
        Assert.That(rows.Probabilities[1], Is.Null);
    }
}
