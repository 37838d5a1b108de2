using NUnit.Framework;
using Chroma.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp;

[TestFixture]
[Category("torch")]
public sealed class ModuleCaptureFaultTests : ModuleCaptureTestBase
{
    [Test]
    [CancelAfter(10_000)]
    public async Task Call_LayerWidthDiffersFromSetDimension_CountsErrorReturnsOutputAndLogsNothing(CancellationToken cancellationToken)
    {
        var wrongSet = Client.GetEmbeddingSet(new EmbeddingSetDescriptor("tiny", "1", "wrong", dimension: 7));
        using var capture = Model.CaptureWithChroma(wrongSet, Model.Act);
        using var input = Inputs(3);
        using var expected = Model.Logits(input);

        using var output = Model.call(input);

        Assert.That(output.data<float>().ToArray(), Is.EqualTo(expected.data<float>().ToArray()));
        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
        Assert.That(Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(capture.SkippedBatches, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_LabelCountDiffersFromBatch_CountsErrorAndLogsNothing(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(3);
        using var labels = tensor(new long[] { 0, 1 });

        using (capture.Training(labels))
        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
        Assert.That(Client.CaptureErrorCount, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Training_FloatLabels_CountsErrorAndSkipsTheScope(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);
        using var labels = tensor(new float[] { 0.5f, 1.5f });

        using (capture.Training(labels))
        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
        Assert.That(Client.CaptureErrorCount, Is.EqualTo(1));
        Assert.That(capture.SkippedBatches, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Forward_BypassingHooks_CountsErrorSayingToUseCall(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);

        using (Model.forward(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
        Assert.That(Client.CaptureErrorCount, Is.EqualTo(1));
    }

    [TestCase(true)]
    [TestCase(false)]
    [CancelAfter(10_000)]
    public async Task Forward_BypassingHooksInEitherMode_OneErrorAndOneSkippedBatchPerForward(bool training, CancellationToken cancellationToken)
    {
        // Probe M, M3: in eval mode the error count rose by 2 per forward, in train mode by 1.
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);
        Model.train(training);

        for (var i = 0; i < 3; i++)
        {
            using (Model.forward(input))
            {
            }
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
        Assert.Multiple(() =>
        {
            Assert.That(capture.SkippedBatches, Is.EqualTo(3));
            Assert.That(Client.CaptureErrorCount, Is.EqualTo(3));
        });
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_CaptureDisabled_LogsNothingAndCountsNothing(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);
        Client.CaptureEnabled = false;

        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
        Assert.That(Client.Statistics.Received, Is.Zero);
        Assert.That(Client.CaptureErrorCount, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_InsideCaptureSuppression_LogsNothing(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);

        using (CaptureSuppression.Begin())
        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_InsidePauseScope_LogsNothing(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);

        using (capture.Pause())
        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
    }

    [Test]
    public void CaptureWithChroma_UnknownLayerName_ThrowsNamingLayerAndListingLayers()
    {
        var ex = Assert.Throws<ArgumentException>(() => Model.CaptureWithChroma(Set, "fc9"));

        Assert.That(ex!.ParamName, Is.EqualTo("layer"));
        Assert.That(ex.Message, Does.Contain("fc1").And.Contain("fc2"));
    }

    [Test]
    public void CaptureWithChroma_LayerOfAnotherModel_ThrowsNamingLayer()
    {
        using var other = nn.Linear(4, 3);

        var ex = Assert.Throws<ArgumentException>(() => Model.CaptureWithChroma(Set, other));

        Assert.That(ex!.ParamName, Is.EqualTo("layer"));
    }
}
