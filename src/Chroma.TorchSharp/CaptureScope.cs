using Chroma.TorchSharp.Internal;

namespace Chroma.TorchSharp;

/// <summary>
/// Says how the forwards made until it is disposed are captured (dataset, labels, input URIs). Returned by
/// <see cref="ChromaModuleCapture.Training(global::TorchSharp.torch.Tensor, IReadOnlyList{string}?)"/> and its
/// siblings; dispose it (a <c>using</c> block) to restore the previous scope. It flows across <c>await</c>.
/// </summary>
#pragma warning disable CA1815 // A scope token is never compared; equality members would only be noise.
public readonly struct CaptureScope : IDisposable
#pragma warning restore CA1815
{
    private readonly AsyncLocal<BatchContext?>? _current;
    private readonly BatchContext? _previous;

    internal CaptureScope(AsyncLocal<BatchContext?> current, BatchContext context)
    {
        _current = current;
        _previous = current.Value;
        current.Value = context;
    }

    /// <summary>Restores the scope that was current when this one began.</summary>
    public void Dispose()
    {
        if (_current is not null)
        {
            _current.Value = _previous;
        }
    }
}
