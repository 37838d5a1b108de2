namespace Chroma.Interception.Internal;

/// <summary>The checks the decorators in this package make before they spend anything on capture, and where capture failures go.</summary>
internal static class CaptureGate
{
    /// <summary>Whether a call made now should be captured (see <see cref="EmbeddingSet.ShouldCapture"/>).</summary>
    public static bool IsOpen(EmbeddingSet set) => set.ShouldCapture;

    /// <summary>Counts and (once per kind) logs a failure inside capture. Never throws.</summary>
    public static void Report(EmbeddingSet set, string adapter, Exception exception) => set.ReportCaptureError(adapter, exception);

    /// <summary>Counts and (once per kind) logs a capture problem that has no exception. Never throws.</summary>
    public static void Report(EmbeddingSet set, string adapter, string problem) => set.ReportCaptureProblem(adapter, problem);

    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="field"/> when the dataset name is invalid.</summary>
    public static void ValidateDataset(string? dataset, string field) => ChromaDatasets.ThrowIfInvalid(dataset, field);
}
