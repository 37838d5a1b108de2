using Chroma.TorchSharp.Internal;
using static TorchSharp.torch;

namespace Chroma.TorchSharp;

/// <summary>
/// Captures one embedding per batch element from a layer of a TorchSharp model through forward hooks, with the
/// model's prediction, and logs it to an <see cref="EmbeddingSet"/>: as training data (with labels) inside a
/// <see cref="Training(Tensor, IReadOnlyList{string}?)"/> scope, as production data otherwise. Create it with
/// <see cref="ModuleCaptureExtensions.CaptureWithChroma(nn.Module{Tensor, Tensor}, EmbeddingSet, nn.Module{Tensor, Tensor}, ModuleCaptureOptions?)"/>;
/// dispose it to remove the hooks.
/// </summary>
/// <remarks>
/// Call the model with <c>model.call(input)</c>: TorchSharp runs a module's hooks from <c>call</c>, not from
/// <c>forward</c>. Capture never throws into the forward and never changes its output: a problem (wrong embedding
/// width, labels that do not match the batch) is counted in <see cref="ChromaClient.CaptureErrorCount"/> and the
/// batch is skipped. A scope's labels and input URIs describe one batch: a second forward inside the same scope is
/// skipped and counted, so open one scope per forward. A row whose model output holds NaN or infinity is logged with
/// its embedding and without class probabilities (counted as a capture problem). Forwards may run on several threads
/// at once; do not dispose the capture while one runs.
/// </remarks>
public sealed partial class ChromaModuleCapture : IDisposable
{
    private readonly nn.Module<Tensor, Tensor> _model;
    private readonly EmbeddingSet _set;
    private readonly ClassLabels _classLabels;
    private readonly ModelOutputKind _output;
    private readonly bool _includeProbabilities;
    private readonly bool _captureUnscopedTraining;
    private readonly IReadOnlyDictionary<string, string>? _metadata;
    private readonly AsyncLocal<BatchContext?> _context = new();
    private readonly ThreadLocal<ForwardState> _state = new(static () => new ForwardState());
    private readonly List<Action> _removeHooks = [];
    private long _capturedRows;
    private long _skippedBatches;
    private volatile bool _disposed;

    internal ChromaModuleCapture(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor> layer, EmbeddingSet set, ModuleCaptureOptions options)
    {
        _model = model;
        _set = set;
        Layer = layer;
        _classLabels = new ClassLabels(set.ClassNames);
        _output = options.Output;
        _includeProbabilities = options.IncludeClassProbabilities;
        _captureUnscopedTraining = options.CaptureUnscopedTrainingForwards;
        _metadata = options.Metadata is null ? null : new Dictionary<string, string>(options.Metadata, StringComparer.Ordinal);
        RegisterHooks();
    }

    /// <summary>The embedding set the rows are logged to.</summary>
    public EmbeddingSet Set => _set;

    /// <summary>The hooked layer whose output is the embedding.</summary>
    public nn.Module<Tensor, Tensor> Layer { get; }

    /// <summary>Rows queued for the server so far (rows the client dropped are not counted).</summary>
    public long CapturedRows => Interlocked.Read(ref _capturedRows);

    /// <summary>Batches not captured because of a capture problem (each also counted in <see cref="ChromaClient.CaptureErrorCount"/>).</summary>
    public long SkippedBatches => Interlocked.Read(ref _skippedBatches);

    /// <summary>
    /// Logs the forwards made until the scope is disposed as training data, labelled with the class names of
    /// <paramref name="labels"/> (integer class indices, shape <c>[batch]</c>, mapped through
    /// <see cref="EmbeddingSet.ClassNames"/> when the set has them).
    /// </summary>
    /// <param name="labels">The batch's class indices; read once, now.</param>
    /// <param name="inputUris">One input URI per batch element, or <see langword="null"/>.</param>
    /// <returns>The scope; dispose it after the forward.</returns>
    /// <remarks>
    /// Labels that are not integer class indices (or, in a set with class names, an index past them) are counted as a
    /// capture error and the scope's forwards are skipped. The labels and input URIs describe one batch: the first
    /// captured forward inside the scope logs them, and a second forward inside the same scope is skipped and counted
    /// (it would be stored with the first batch's labels). Open one scope per forward.
    /// </remarks>
    public CaptureScope Training(Tensor labels, IReadOnlyList<string>? inputUris = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        string[]? names = null;
        try
        {
            names = _classLabels.NamesOf(labels);
        }
#pragma warning disable CA1031 // Bad labels must not stop the user's training loop: counted, and the batch is skipped.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ReportSkipped("labels are not class indices of the set", ex);
        }

        return new CaptureScope(_context, new BatchContext(names is null ? null : ChromaDatasets.Training, names, inputUris));
    }

    /// <summary>Logs the forwards made until the scope is disposed as training data with the given labels.</summary>
    /// <param name="labels">One label per batch element.</param>
    /// <param name="inputUris">One input URI per batch element, or <see langword="null"/>.</param>
    /// <returns>The scope; dispose it after the forward.</returns>
    public CaptureScope Training(IReadOnlyList<string> labels, IReadOnlyList<string>? inputUris = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return new CaptureScope(_context, new BatchContext(ChromaDatasets.Training, labels, inputUris));
    }

    /// <summary>
    /// Logs the forwards made until the scope is disposed as production data with the given input URIs. Forwards
    /// outside any scope are production data too; this scope only adds the URIs. URIs describe one batch: with URIs, a
    /// second forward inside the same scope is skipped and counted, as for <see cref="Training(Tensor, IReadOnlyList{string}?)"/>.
    /// </summary>
    /// <param name="inputUris">One input URI per batch element, or <see langword="null"/>.</param>
    /// <returns>The scope; dispose it after the forward.</returns>
    public CaptureScope Production(IReadOnlyList<string>? inputUris = null) =>
        new(_context, new BatchContext(ChromaDatasets.Production, labels: null, inputUris));

    /// <summary>Logs the forwards made until the scope is disposed into a named dataset (e.g. <c>validation</c>).</summary>
    /// <param name="dataset">The dataset name, 1-64 characters of [A-Za-z0-9_.-].</param>
    /// <param name="labels">One label per batch element, or <see langword="null"/>.</param>
    /// <param name="inputUris">One input URI per batch element, or <see langword="null"/>.</param>
    /// <returns>The scope; dispose it after the forward.</returns>
    public CaptureScope Dataset(string dataset, IReadOnlyList<string>? labels = null, IReadOnlyList<string>? inputUris = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataset);
        return new CaptureScope(_context, new BatchContext(dataset, labels, inputUris));
    }

    /// <summary>Captures nothing from the forwards made until the scope is disposed (e.g. a validation pass).</summary>
    /// <returns>The scope; dispose it to resume capture.</returns>
    public CaptureScope Pause() => new(_context, BatchContext.Paused);

    /// <summary>Removes the hooks: later forwards are not captured. Rows already logged stay queued in the client.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var remove in _removeHooks)
        {
            remove();
        }

        _removeHooks.Clear();
        _state.Dispose();
    }
}
