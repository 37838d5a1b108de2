using System.Numerics.Tensors;

namespace Chroma.Server.Recommendations;

/// <summary>
/// One fold's model of the <see cref="ProductionShiftClassifier"/>: a network with one hidden layer of
/// <see cref="HiddenUnits"/> ReLU units and one output logit ("production"), fitted by class-balanced log loss with
/// Adam. Nonlinear, so it also separates production that differs from training in ways no single direction of the
/// features shows (a ring around the training data, a mixture of shifts pointing in opposite directions), which a
/// linear classifier averages away.
/// </summary>
/// <remarks>
/// Training: mini-batches of <see cref="BatchSize"/>, <see cref="Epochs"/> epochs (up to <see cref="MinimumSteps"/>
/// steps for a small sample), stopped early on a validation share (<see cref="ValidationShare"/>), Adam (learning rate 1e-3, betas
/// 0.9 / 0.999), weight decay <see cref="WeightDecay"/> per batch row (scikit-learn's <c>MLPClassifier</c> defaults,
/// which the offline comparison in the benchmarks README used), Glorot-uniform initialisation and per-epoch
/// shuffles from a seeded <see cref="Random"/>: the same rows and seed give the same network. Cost for n rows of p
/// features: about <c>3 p HiddenUnits max(n Epochs, BatchSize MinimumSteps)</c> multiply-adds.
/// </remarks>
internal sealed class ShiftNetwork
{
    /// <summary>Hidden ReLU units.</summary>
    public const int HiddenUnits = 64;

    /// <summary>Epochs over the rows (more for a small sample: see <see cref="MinimumSteps"/>).</summary>
    public const int Epochs = 10;

    /// <summary>
    /// Most gradient steps a small sample may get (more epochs than <see cref="Epochs"/>; a network fitted in a few dozen
    /// steps has barely left its random start), early stopping deciding how many it takes: see <see cref="ValidationShare"/>.
    /// </summary>
    public const int MinimumSteps = 2_000;

    /// <summary>
    /// Share of the rows held back (seeded) to stop early: after each epoch the class-balanced log loss on them is
    /// measured, and the network with the lowest is kept; training stops after <see cref="PatienceSteps"/> steps without
    /// improvement. So a small sample, which the network would otherwise memorise, trains only as long as it generalises.
    /// </summary>
    public const double ValidationShare = 0.1;

    /// <summary>Steps without a lower validation loss after which training stops (at least one epoch).</summary>
    public const int PatienceSteps = 300;

    /// <summary>Rows per gradient step.</summary>
    public const int BatchSize = 256;

    /// <summary>L2 penalty on the weights, per batch row (<c>alpha / batch size</c> with alpha 1e-4, as scikit-learn).</summary>
    public const double WeightDecay = 1e-4 / BatchSize;

    private const double LearningRate = 1e-3;
    private const double Beta1 = 0.9;
    private const double Beta2 = 0.999;
    private const double AdamEpsilon = 1e-8;

    // Parameters in one array so one Adam loop updates them all: hidden weights (HiddenUnits rows of p), hidden
    // biases, output weights, output bias.
    private readonly float[] _parameters;
    private readonly int _features;

    private ShiftNetwork(int features, float[] parameters)
    {
        _features = features;
        _parameters = parameters;
    }

    private static int ParameterCount(int features) => (HiddenUnits * features) + HiddenUnits + HiddenUnits + 1;

    /// <summary>
    /// Fits a network on the rows <paramref name="rows"/> of <paramref name="x"/> (row-major, <paramref name="features"/>
    /// values each, standardised by the caller) with labels <paramref name="y"/> (1 production, 0 training), each class
    /// weighted to carry half the loss. Rows of one class only: a network whose logit is 0 everywhere.
    /// </summary>
    public static ShiftNetwork Fit(float[] x, float[] y, int[] rows, int features, int seed, CancellationToken cancellationToken)
    {
        var p = features;
        var parameters = new float[ParameterCount(p)];
        var network = new ShiftNetwork(p, parameters);
        var positives = rows.Count(i => y[i] > 0);
        var negatives = rows.Length - positives;
        if (positives == 0 || negatives == 0 || rows.Length < 4)
        {
            return network;
        }

#pragma warning disable CA5394 // A seeded, reproducible initialisation and shuffle are the point; nothing here is security-sensitive.
        var random = new Random(seed);
        var hiddenBound = Math.Sqrt(6.0 / (p + HiddenUnits));
        var outputBound = Math.Sqrt(6.0 / (HiddenUnits + 1));
        var outputStart = (HiddenUnits * p) + HiddenUnits;
        for (var k = 0; k < parameters.Length; k++)
        {
            var bound = k < outputStart ? hiddenBound : outputBound;
            parameters[k] = (float)(((2 * random.NextDouble()) - 1) * bound);
        }

        // Seeded validation rows (at least one of each class when the class has two or more rows).
        rows = [.. rows];
        random.Shuffle(rows);
        var validationCount = Math.Max(2, (int)(rows.Length * ValidationShare));
        var validation = rows[..validationCount];
        if (validation.All(i => y[i] > 0) || validation.All(i => y[i] <= 0))
        {
            var other = Array.FindIndex(rows, validationCount, i => (y[i] > 0) != (y[validation[0]] > 0));
            if (other >= 0)
            {
                (rows[0], rows[other]) = (rows[other], rows[0]);
                validation = rows[..validationCount];
            }
        }

        rows = rows[validationCount..];
        var positiveWeight = (float)(rows.Length / (2.0 * Math.Max(1, rows.Count(i => y[i] > 0))));
        var negativeWeight = (float)(rows.Length / (2.0 * Math.Max(1, rows.Count(i => y[i] <= 0))));
        var gradient = new float[parameters.Length];
        var m = new float[parameters.Length];
        var v = new float[parameters.Length];
        var hidden = new float[HiddenUnits];
        var best = (float[])parameters.Clone();
        var bestLoss = network.ValidationLoss(x, y, validation, hidden);
        var step = 0;
        var bestStep = 0;
        var batches = (rows.Length + BatchSize - 1) / BatchSize;
        var epochs = Math.Max(Epochs, (MinimumSteps + batches - 1) / batches);
        for (var epoch = 0; epoch < epochs && step - bestStep < Math.Max(PatienceSteps, batches); epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            random.Shuffle(rows);
            for (var start = 0; start < rows.Length; start += BatchSize)
            {
                var end = Math.Min(rows.Length, start + BatchSize);
                gradient.AsSpan().Clear();
                for (var k = start; k < end; k++)
                {
                    var i = rows[k];
                    var row = x.AsSpan(i * p, p);
                    var z = network.Forward(row, hidden);
                    var residual = (Sigmoid(z) - y[i]) * (y[i] > 0 ? positiveWeight : negativeWeight);
                    network.Backward(row, hidden, residual, gradient);
                }

                step++;
                var size = end - start;
                var correction1 = 1 - Math.Pow(Beta1, step);
                var correction2 = 1 - Math.Pow(Beta2, step);
                var rate = (float)(LearningRate * Math.Sqrt(correction2) / correction1);
                for (var k = 0; k < parameters.Length; k++)
                {
                    // The penalty applies to weights, not biases (as scikit-learn).
                    var g = (gradient[k] / size) + (IsWeight(k, p) ? (float)(WeightDecay * parameters[k]) : 0f);
                    m[k] = (float)((Beta1 * m[k]) + ((1 - Beta1) * g));
                    v[k] = (float)((Beta2 * v[k]) + ((1 - Beta2) * g * g));
                    parameters[k] -= rate * m[k] / (MathF.Sqrt(v[k]) + (float)AdamEpsilon);
                }
            }

            var loss = network.ValidationLoss(x, y, validation, hidden);
            if (loss < bestLoss)
            {
                bestLoss = loss;
                bestStep = step;
                parameters.CopyTo(best, 0);
            }
        }

        best.CopyTo(parameters, 0);
#pragma warning restore CA5394

        return network;
    }

    /// <summary>The logit of "production" for one standardised feature row.</summary>
    public double Logit(ReadOnlySpan<float> features)
    {
        Span<float> hidden = stackalloc float[HiddenUnits];
        return Forward(features, hidden);
    }

    // Class-balanced mean log loss on the validation rows.
    private double ValidationLoss(float[] x, float[] y, int[] validation, Span<float> hidden)
    {
        var positives = validation.Count(i => y[i] > 0);
        var negatives = validation.Length - positives;
        double loss = 0;
        foreach (var i in validation)
        {
            var z = Forward(x.AsSpan(i * _features, _features), hidden);
            var signed = y[i] > 0 ? z : -z;

            // -log sigmoid(signed), stable for large |z|.
            var rowLoss = signed >= 0 ? Math.Log(1 + Math.Exp(-signed)) : -signed + Math.Log(1 + Math.Exp(signed));
            loss += rowLoss / (y[i] > 0 ? positives : negatives);
        }

        return loss / 2;
    }

    private static bool IsWeight(int k, int p) => k < HiddenUnits * p || (k >= (HiddenUnits * p) + HiddenUnits && k < (HiddenUnits * p) + (2 * HiddenUnits));

    // Hidden activations into `hidden`; returns the output logit.
    private float Forward(ReadOnlySpan<float> row, Span<float> hidden)
    {
        var p = _features;
        var w = _parameters.AsSpan();
        var biases = w.Slice(HiddenUnits * p, HiddenUnits);
        var output = w.Slice((HiddenUnits * p) + HiddenUnits, HiddenUnits);
        for (var j = 0; j < HiddenUnits; j++)
        {
            hidden[j] = Math.Max(0f, TensorPrimitives.Dot(w.Slice(j * p, p), row) + biases[j]);
        }

        return TensorPrimitives.Dot(output, hidden) + w[^1];
    }

    // Adds the gradient of residual * logit (residual = d loss / d logit) to `gradient`.
    private void Backward(ReadOnlySpan<float> row, ReadOnlySpan<float> hidden, float residual, Span<float> gradient)
    {
        var p = _features;
        var output = _parameters.AsSpan((HiddenUnits * p) + HiddenUnits, HiddenUnits);
        var hiddenBiasGradient = gradient.Slice(HiddenUnits * p, HiddenUnits);
        var outputGradient = gradient.Slice((HiddenUnits * p) + HiddenUnits, HiddenUnits);
        TensorPrimitives.MultiplyAdd(hidden, residual, outputGradient, outputGradient);
        gradient[^1] += residual;
        for (var j = 0; j < HiddenUnits; j++)
        {
            if (hidden[j] <= 0)
            {
                continue;
            }

            var back = residual * output[j];
            var slice = gradient.Slice(j * p, p);
            TensorPrimitives.MultiplyAdd(row, back, slice, slice);
            hiddenBiasGradient[j] += back;
        }
    }

    private static float Sigmoid(float z) => z >= 0 ? 1 / (1 + MathF.Exp(-z)) : MathF.Exp(z) / (1 + MathF.Exp(z));
}
