using System.Globalization;
using System.Runtime.InteropServices;
using Chroma.Server.Recommendations;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// Writes what a model gave (embeddings, probabilities, predictions, labels) as raw little-endian files plus a
/// manifest, so candidate detectors can be explored offline (e.g. with numpy) on exactly the benchmark's outputs:
/// <c>{name}.emb.f32</c> (count x 128), <c>{name}.prob.f32</c> (count x 10), <c>{name}.pred.i32</c>, <c>{name}.label.i32</c>,
/// and one line per part in <c>manifest.txt</c>: <c>name count</c>. <see cref="WriteSignals"/> adds the engine's
/// calibrated surprise per record and signal (<c>{name}.surprise.f64</c>, count x the <see cref="SignalKind"/> values in
/// enum order, NaN where a record has no such signal) and the training rows the model was fitted on
/// (<c>{name}.fitted.i32</c>; the others are the calibration hold-out).
/// </summary>
internal sealed class OutputDump(string directory)
{
    public void Write(string name, MlpOutputs outputs, int[] labels)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, name + ".emb.f32"), MemoryMarshal.AsBytes(outputs.Embeddings.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(directory, name + ".prob.f32"), MemoryMarshal.AsBytes(outputs.Probabilities.SelectMany(p => p).ToArray().AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(directory, name + ".pred.i32"), MemoryMarshal.AsBytes(outputs.Predictions.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(directory, name + ".label.i32"), MemoryMarshal.AsBytes(labels.AsSpan()).ToArray());
        File.AppendAllText(Path.Combine(directory, "manifest.txt"), string.Create(CultureInfo.InvariantCulture, $"{name} {outputs.Count}\n"));
    }

    public void WriteSignals(string name, IReadOnlyList<ScoredRecord> records, IReadOnlyCollection<int> fittedRows)
    {
        Directory.CreateDirectory(directory);
        var kinds = Enum.GetValues<SignalKind>();
        var surprises = new double[records.Count * kinds.Length];
        for (var i = 0; i < records.Count; i++)
        {
            for (var k = 0; k < kinds.Length; k++)
            {
                surprises[(i * kinds.Length) + k] = records[i].Signal(kinds[k])?.Surprise ?? double.NaN;
            }
        }

        File.WriteAllBytes(Path.Combine(directory, name + ".surprise.f64"), MemoryMarshal.AsBytes(surprises.AsSpan()).ToArray());
        File.WriteAllBytes(Path.Combine(directory, name + ".fitted.i32"), MemoryMarshal.AsBytes(fittedRows.ToArray().AsSpan()).ToArray());
    }
}
