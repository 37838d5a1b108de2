namespace Chroma.TorchSharp.Internal;

/// <summary>
/// What one thread's forward has gathered between the hooks: the root pre-hook decides whether the forward is
/// captured, the layer hook copies the embeddings, the root hook copies the output and logs the rows. A forward runs
/// on one thread, so one instance per thread needs no locking; its buffers are reused from batch to batch.
/// </summary>
internal sealed class ForwardState
{
    public ForwardPhase Phase;

    /// <summary>The layer's output of the current forward, row-major, or stale data when <see cref="HasEmbeddings"/> is false.</summary>
    public float[] Embeddings = [];

    public bool HasEmbeddings;

    public int Rows;

    public int Width;

    /// <summary>The root module's output of the current forward, row-major.</summary>
    public float[] Outputs = [];

    /// <summary>Scratch room for one row's class probabilities.</summary>
    public float[] Probabilities = [];

    /// <summary>Ends the forward: its copies are not logged twice.</summary>
    public void Reset()
    {
        Phase = ForwardPhase.Idle;
        HasEmbeddings = false;
    }
}

/// <summary>Where a thread is in a forward of the captured model.</summary>
internal enum ForwardPhase
{
    /// <summary>Not inside a forward of the root module (or inside one made with <c>forward</c>, which skips hooks).</summary>
    Idle,

    /// <summary>Inside a forward that is captured.</summary>
    Capturing,

    /// <summary>Inside a forward that is not captured (capture off, suppressed, paused or an unlabelled training step).</summary>
    Skipping,
}
