using NUnit.Framework;
using Chroma.Tests.TorchSharp.Support;
using Chroma.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp;

[TestFixture]
[Category("torch")]
public sealed class ModuleCaptureInferenceTests : ModuleCaptureTestBase
{
    [Test]
    [CancelAfter(10_000)]
    public async Task Call_InferenceBatch_LogsOneProductionRowPerElementEqualToLayerOutput(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(5);
        using var expected = Model.Embed(input);

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records, Has.Count.EqualTo(5));
        for (var row = 0; row < 5; row++)
        {
            Assert.That(records[row].Dataset, Is.EqualTo(ChromaDatasets.Production));
            Assert.That(records[row].Embedding, Is.EqualTo(Row(expected, row)).Within(1e-6f));
            Assert.That(records[row].Label, Is.Empty);
        }

        Assert.That(capture.CapturedRows, Is.EqualTo(5));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_Logits_LogsArgMaxAsPredictedClassAndSoftmaxAsProbabilities(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(6);
        using var logits = Model.Logits(input);
        using var probabilities = logits.softmax(1);
        using var predicted = logits.argmax(1);
        var predictedIndices = predicted.data<long>().ToArray();

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records, Has.Count.EqualTo(6));
        for (var row = 0; row < 6; row++)
        {
            Assert.That(records[row].Inference.PredictedClass, Is.EqualTo(ClassNames[predictedIndices[row]]));
            Assert.That(records[row].Inference.ClassProbabilities, Is.EqualTo(Row(probabilities, row)).Within(1e-6f));
        }
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_ProbabilitiesOff_LogsPredictedClassOnly(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act, new ModuleCaptureOptions { IncludeClassProbabilities = false });
        using var input = Inputs(3);

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => r.Inference.PredictedClass), Has.All.AnyOf(ClassNames));
        Assert.That(records.Select(r => r.Inference.ClassProbabilities.Count), Has.All.EqualTo(0));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_OutputKindNone_LogsEmbeddingsWithoutInference(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act, new ModuleCaptureOptions { Output = ModelOutputKind.None });
        using var input = Inputs(4);
        using var expected = Model.Embed(input);

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records, Has.Count.EqualTo(4));
        Assert.That(records[3].Embedding, Is.EqualTo(Row(expected, 3)).Within(1e-6f));
        Assert.That(records.Select(r => r.Inference?.PredictedClass ?? string.Empty), Has.All.Empty);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_ProductionScope_AttachesInputUrisAndMetadata(CancellationToken cancellationToken)
    {
        var options = new ModuleCaptureOptions { Metadata = new Dictionary<string, string> { ["source"] = "unit-test" } };
        using var capture = Model.CaptureWithChroma(Set, Model.Act, options);
        using var input = Inputs(2);

        using (capture.Production(["file:///a.png", "file:///b.png"]))
        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records.Select(r => r.InputUri), Is.EqualTo(new[] { "file:///a.png", "file:///b.png" }));
        Assert.That(records.Select(r => r.Metadata["source"]), Has.All.EqualTo("unit-test"));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_LayerIsTheModel_LogsTheLogitsAsEmbedding(CancellationToken cancellationToken)
    {
        var logitSet = Client.GetEmbeddingSet(new EmbeddingSetDescriptor("tiny", "1", "logits", TinyClassifier.Classes));
        using var capture = Model.CaptureWithChroma(logitSet, Model);
        using var input = Inputs(3);
        using var logits = Model.Logits(input);

        using (Model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records, Has.Count.EqualTo(3));
        Assert.That(records[1].Embedding, Is.EqualTo(Row(logits, 1)).Within(1e-6f));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_SequentialModelLayerByName_CapturesThatLayer(CancellationToken cancellationToken)
    {
        manual_seed(3);
        using var model = nn.Sequential(("fc1", nn.Linear(4, 3)), ("act", nn.ReLU()), ("fc2", nn.Linear(3, 2)));
        model.eval();
        using var capture = model.CaptureWithChroma(Set, "act");
        using var input = Inputs(2);
        using var expected = nn.functional.relu(((nn.Module<Tensor, Tensor>)model[0]).forward(input));

        using (model.call(input))
        {
        }

        var records = await DeliveredAsync(cancellationToken);
        Assert.That(records, Has.Count.EqualTo(2));
        Assert.That(records[0].Embedding, Is.EqualTo(Row(expected, 0)).Within(1e-6f));
    }
}
