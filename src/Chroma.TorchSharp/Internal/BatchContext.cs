namespace Chroma.TorchSharp.Internal;

/// <summary>The dataset, labels and input URIs of the forwards made inside a <see cref="CaptureScope"/>.</summary>
internal sealed class BatchContext
{
    public static readonly BatchContext Paused = new(dataset: null, labels: null, inputUris: null, isPaused: true);

    public BatchContext(string? dataset, IReadOnlyList<string>? labels, IReadOnlyList<string>? inputUris, bool isPaused = false)
    {
        Dataset = dataset;
        Labels = labels;
        InputUris = inputUris;
        IsPaused = isPaused;
    }

    /// <summary>The dataset rows go to, or <see langword="null"/> when the scope could not be set up (nothing is logged).</summary>
    public string? Dataset { get; }

    /// <summary>One label per batch row, or <see langword="null"/>.</summary>
    public IReadOnlyList<string>? Labels { get; }

    /// <summary>One input URI per batch row, or <see langword="null"/>.</summary>
    public IReadOnlyList<string>? InputUris { get; }

    /// <summary>Whether forwards in this scope are not captured at all.</summary>
    public bool IsPaused { get; }
}
