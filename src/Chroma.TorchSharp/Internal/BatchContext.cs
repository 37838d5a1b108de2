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

    /// <summary>Whether the scope carries one value per batch row (labels or input URIs), which describe one batch.</summary>
    public bool HasRowValues => Labels is not null || InputUris is not null;

    // 1 once a forward has logged the scope's labels and URIs (a scope flows to other threads with the async context).
    private int _used;

    /// <summary>
    /// Claims the scope's labels and input URIs for one forward: true for the first forward that logs them, false for
    /// every later one (they were given for one batch, and a second batch would be logged with the first one's).
    /// </summary>
    public bool TryUseRowValues() => !HasRowValues || Interlocked.Exchange(ref _used, 1) == 0;
}
