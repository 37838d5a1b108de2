namespace Chroma.Internal;

/// <summary>
/// Marks code that must never be captured: the SDK's own gRPC calls and background loops. Interceptors check
/// <see cref="IsActive"/> first, so Chroma never captures itself.
/// </summary>
internal static class CaptureSuppression
{
    private static readonly AsyncLocal<bool> s_active = new();

    public static bool IsActive => s_active.Value;

    /// <summary>Suppresses capture until the returned scope is disposed (flows with the async context).</summary>
    public static Scope Begin()
    {
        var previous = s_active.Value;
        s_active.Value = true;
        return new Scope(previous);
    }

    public readonly struct Scope : IDisposable
    {
        private readonly bool _previous;

        internal Scope(bool previous)
        {
            _previous = previous;
        }

        public void Dispose() => s_active.Value = _previous;
    }
}
