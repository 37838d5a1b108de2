using Chroma.Internal;

namespace Chroma.Interception.Internal;

/// <summary>The checks every decorator makes before it spends anything on capture, and where capture failures go.</summary>
internal static class CaptureGate
{
    /// <summary>
    /// Whether a call made now should be captured: capture is on and the call is not the SDK's own. The switch is read
    /// first so that, switched off, capture costs one branch.
    /// </summary>
    public static bool IsOpen(EmbeddingSet set) => set.Client.CaptureEnabled && !CaptureSuppression.IsActive;

    /// <summary>Counts and (once per kind) logs a failure inside capture. Never throws.</summary>
    public static void Report(EmbeddingSet set, string adapter, Exception exception) =>
        set.Client.CaptureErrors.Report($"{adapter}: {exception.GetType().Name}", exception);

    /// <summary>Counts and (once per kind) logs a capture problem that has no exception. Never throws.</summary>
    public static void Report(EmbeddingSet set, string adapter, string problem) =>
        set.Client.CaptureErrors.Report($"{adapter}: {problem}", exception: null);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="field"/> when the dataset name is invalid.</summary>
    public static void ValidateDataset(string? dataset, string field)
    {
        if (!EmbeddingSetDescriptor.IsValidName(dataset, 64))
        {
            throw new ArgumentException($"{field} '{dataset}' must be 1-64 characters of [A-Za-z0-9_.-].", field);
        }
    }
}
