using NUnit.Framework;
using Chroma.Tests.TorchSharp.Support;
using Chroma.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp;

[TestFixture]
[Category("torch")]
public sealed class ModuleCaptureTrainingTests : ModuleCaptureTestBase
{
    [Test]
    [CancelAfter(10_000)]
    public async Task Call_InsideTrainingScope_LogsTrainingRowsLabelledWithClassNames(CancellationToken cancellationToken)
    {
        Model.train();
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(4);
        using var labels = tensor(new long[] { 1, 0, 0, 1 });
        using var expected = Model.Embed(input);

        using (capture.Training(labels))
        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records, Has.Count.EqualTo(4));
        Assert.That(records.Select(r => r.Dataset), Has.All.EqualTo(ChromaDatasets.Training));
        Assert.That(records.Select(r => r.Label), Is.EqualTo(new[] { "dog", "cat", "cat", "dog" }));
        Assert.That(records[2].Embedding, Is.EqualTo(Row(expected, 2)).Within(1e-6f));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_TrainingScopeWithTextLabelsAndUris_LogsThem(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);

        using (capture.Training(["x", "y"], ["row:1", "row:2"]))
        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => (r.Label, r.InputUri)), Is.EqualTo(new[] { ("x", "row:1"), ("y", "row:2") }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_LabelsWithoutClassNames_LogsIndexText(CancellationToken cancellationToken)
    {
        var unnamed = Client.GetEmbeddingSet(new EmbeddingSetDescriptor("tiny", "1", "unnamed", TinyClassifier.EmbeddingWidth));
        using var capture = Model.CaptureWithChroma(unnamed, Model.Act);
        using var input = Inputs(2);
        using var labels = tensor(new int[] { 1, 0 });

        using (capture.Training(labels))
        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => r.Label), Is.EqualTo(new[] { "1", "0" }));
        Assert.That(records.Select(r => r.Inference.PredictedClass), Has.All.AnyOf("0", "1"));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_AfterAwaitInsideTrainingScope_StillUsesTheScope(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);

        using (capture.Training(["x", "y"]))
        {
            await Task.Yield(); // the forward may run on another thread; the scope flows with the async context
            using (Model.call(input))
            {
            }
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => r.Label), Is.EqualTo(new[] { "x", "y" }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_TrainModeOutsideAnyScope_LogsNothing(CancellationToken cancellationToken)
    {
        Model.train();
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(3);

        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Is.Empty);
        Assert.That(Client.CaptureErrorCount, Is.Zero);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_TrainModeWithUnscopedCaptureOn_LogsProduction(CancellationToken cancellationToken)
    {
        Model.train();
        using var capture = Model.CaptureWithChroma(Set, Model.Act, new ModuleCaptureOptions { CaptureUnscopedTrainingForwards = true });
        using var input = Inputs(3);

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => r.Dataset), Is.EqualTo(Enumerable.Repeat(ChromaDatasets.Production, 3)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_AfterTrainingScopeEnds_LogsProductionAgain(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(1);
        using var labels = tensor(new long[] { 0 });

        using (capture.Training(labels))
        using (Model.call(input))
        {
        }

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => r.Dataset), Is.EqualTo(new[] { ChromaDatasets.Training, ChromaDatasets.Production }));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_NamedDatasetScope_LogsIntoThatDataset(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);

        using (capture.Dataset("validation", ["cat", "dog"]))
        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => r.Dataset), Has.All.EqualTo("validation"));
        Assert.That(records.Select(r => r.Label), Is.EqualTo(ClassNames));
    }

    [Test]
    public void Backward_ThroughCapturedModel_GivesTheSameGradients()
    {
        using var input = Inputs(8);
        using var labels = tensor(new long[] { 0, 1, 0, 1, 1, 0, 0, 1 });
        var expected = Gradients(Model, input, labels, capture: null);

        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        var actual = Gradients(Model, input, labels, capture);

        Assert.That(actual, Is.EqualTo(expected).Within(1e-7f));
        Assert.That(capture.CapturedRows, Is.EqualTo(8));
    }

    private static float[] Gradients(nn.Module<Tensor, Tensor> model, Tensor input, Tensor labels, ChromaModuleCapture? capture)
    {
        model.train();
        model.zero_grad();
        using (capture?.Training(labels))
        {
            using var output = model.call(input);
            using var loss = nn.functional.cross_entropy(output, labels);
            loss.backward();
        }

        return [.. model.parameters().SelectMany(p => p.grad!.data<float>().ToArray())];
    }
}
