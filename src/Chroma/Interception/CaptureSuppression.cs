namespace Chroma;

/// <summary>
/// Marks code whose model calls must never be captured: the SDK's own gRPC calls and background loops, or an
/// application's warm-up and health probes. Every decorator checks <see cref="IsActive"/> (through
/// <see cref="EmbeddingSet.ShouldCapture"/>) before it captures, so Chroma never captures itself. Adapters in other
/// packages use the same switch.
/// </summary>
public static class CaptureSuppression
{
    private static readonly AsyncLocal<bool> s_active = new();

    /// <summary>Whether the current async flow is inside a <see cref="Begin"/> scope. The default value is <see langword="false"/>.</summary>
    public static bool IsActive => s_active.Value;

    /// <summary>
    /// Suppresses capture until the returned scope is disposed. The flag flows with the async context (an
    /// <see cref="AsyncLocal{T}"/>), so work started inside the scope stays uncaptured; scopes nest.
    /// </summary>
    /// <returns>The scope; dispose it to restore the previous state.</returns>
    public static CaptureSuppressionScope Begin()
    {
        var previous = s_active.Value;
        s_active.Value = true;
        return new CaptureSuppressionScope(previous);
    }

    internal static void Restore(bool previous) => s_active.Value = previous;
}
