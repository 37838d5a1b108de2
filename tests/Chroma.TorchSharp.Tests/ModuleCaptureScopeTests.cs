using NUnit.Framework;
using Chroma.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp;

/// <summary>
/// What a scope's labels and URIs cover (one batch), rows whose model output is broken, labels past the set's class
/// names, and inputs without a batch dimension (outside-in probe 6).
/// </summary>
[TestFixture]
[Category("torch")]
public sealed class ModuleCaptureScopeTests : ModuleCaptureTestBase
{
    [Test]
    [CancelAfter(10_000)]
    public async Task Call_TwiceInsideOneTrainingScope_SecondBatchSkippedNotLoggedWithTheFirstBatchsLabels(CancellationToken cancellationToken)
    {
        Model.train();
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var first = Inputs(2, seed: 1);
        using var second = Inputs(2, seed: 2);
        using var labels = tensor(new long[] { 1, 0 });

        using (capture.Training(labels, ["a", "b"]))
        {
            using (Model.call(first))
            {
            }

            using (Model.call(second))
            {
            }
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(records.Select(r => (r.Label, r.InputUri)), Is.EqualTo(new[] { ("dog", "a"), ("cat", "b") }), "only the batch the labels were given for");
            Assert.That(capture.SkippedBatches, Is.EqualTo(1), "the second batch is skipped");
            Assert.That(Client.CaptureErrorCount, Is.EqualTo(1), "and counted");
        });
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_TwiceInsideOneProductionScopeWithUris_SecondSkippedButAScopeWithoutUrisLogsEveryForward(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);

        using (capture.Production(["u0", "u1"]))
        {
            Model.call(input).Dispose();
            Model.call(input).Dispose();
        }

        using (capture.Production())
        {
            Model.call(input).Dispose();
            Model.call(input).Dispose();
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(records.Select(r => r.InputUri), Is.EqualTo(new[] { "u0", "u1", string.Empty, string.Empty, string.Empty, string.Empty }));
            Assert.That(capture.SkippedBatches, Is.EqualTo(1));
        });
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_NaNInTheModelOutput_RowKeepsItsEmbeddingAndPredictionWithoutProbabilities(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(3);
        using var expected = Model.Embed(input);
        using (no_grad())
        {
            Model.Fc2.parameters().Last().index_put_(float.NaN, 1); // the bias of class "dog"
        }

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.Multiple(() =>
        {
            Assert.That(records, Has.Count.EqualTo(3), "no row is lost to a broken head");
            Assert.That(records[1].Embedding, Is.EqualTo(Row(expected, 1)).Within(1e-6f));
            Assert.That(records.Select(r => r.Inference.PredictedClass), Has.All.EqualTo("cat"), "the finite score wins");
            Assert.That(records.Select(r => r.Inference.ClassProbabilities.Count), Has.All.Zero, "no NaN probabilities are sent");
            Assert.That(Client.CaptureErrorCount, Is.GreaterThan(0), "the broken output is reported");
            Assert.That(capture.SkippedBatches, Is.Zero, "but nothing is skipped");
        });
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Training_LabelPastTheSetsClassNames_SkippedAndCountedNotStoredAsItsIndex(CancellationToken cancellationToken)
    {
        Model.train();
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);
        using var labels = tensor(new long[] { 1, 42 });

        using (capture.Training(labels))
        using (Model.call(input))
        {
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
            Assert.That(capture.SkippedBatches, Is.EqualTo(1));
            Assert.That(Client.CaptureErrorCount, Is.EqualTo(1));
        });
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_InputWithoutBatchDimension_SkippedAndCounted(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(1).squeeze(0);

        using (Model.call(input))
        {
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
            Assert.That(capture.SkippedBatches, Is.EqualTo(1));
        });
    }
}
