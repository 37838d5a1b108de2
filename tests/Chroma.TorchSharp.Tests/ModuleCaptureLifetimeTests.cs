using NUnit.Framework;
using Chroma.TorchSharp;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp;

[TestFixture]
[Category("torch")]
public sealed class ModuleCaptureLifetimeTests : ModuleCaptureTestBase
{
    [Test]
    [CancelAfter(10_000)]
    public async Task Dispose_ThenCall_LogsNothing(CancellationToken cancellationToken)
    {
        var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(2);
        using (Model.call(input))
        {
        }

        capture.Dispose();
        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Has.Count.EqualTo(2));
        Assert.That(Client.CaptureErrorCount, Is.Zero);
    }

    [Test]
    public void Dispose_RemovesTheHooksOfLayerAndModel()
    {
        var capture = Model.CaptureWithChroma(Set, Model.Act);
        var hooked = (Layer: Model.Act.HookCount, Model: Model.HookCount);

        capture.Dispose();

        Assert.That(hooked, Is.EqualTo((1, 2)));
        Assert.That((Model.Act.HookCount, Model.HookCount), Is.EqualTo((0, 0)));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Dispose_ThenCaptureAgain_HooksOnlyOnce(CancellationToken cancellationToken)
    {
        Model.CaptureWithChroma(Set, Model.Act).Dispose();
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(3);

        using (Model.call(input))
        {
        }

        Assert.That(await DeliveredAsync(cancellationToken), Has.Count.EqualTo(3));
    }

    [Test]
    public void Call_WithCapture_ReturnsTheSameOutputAsWithout()
    {
        using var input = Inputs(16);
        using var before = Model.call(input);
        var expected = before.data<float>().ToArray();

        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var after = Model.call(input);

        Assert.That(after.data<float>().ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Call_WithCapture_LeavesNoTensorInTheCallersDisposeScope()
    {
        using var input = Inputs(4);
        int Count(bool captured)
        {
            using var capture = captured ? Model.CaptureWithChroma(Set, Model.Act) : null;
            using var scope = NewDisposeScope();
            Model.call(input);
            return scope.DisposablesCount;
        }

        var withoutCapture = Count(captured: false);
        var withCapture = Count(captured: true);

        Assert.That(withCapture, Is.EqualTo(withoutCapture));
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task Call_FromSeveralThreads_LogsEveryRowOnce(CancellationToken cancellationToken)
    {
        using var capture = Model.CaptureWithChroma(Set, Model.Act);
        using var input = Inputs(5);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(
            () =>
            {
                using var noGrad = no_grad();
                for (var i = 0; i < 10; i++)
                {
                    Model.call(input).Dispose();
                }
            },
            cancellationToken)));

        Assert.That(await DeliveredAsync(cancellationToken), Has.Count.EqualTo(4 * 10 * 5));
        Assert.That(Client.CaptureErrorCount, Is.Zero);
    }
}
