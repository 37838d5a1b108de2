using Chroma.Protocol.V1;

namespace Chroma;

/// <summary>
/// A handle to one embedding set, used to log captured calls. Every <c>Log</c> method copies the embedding and
/// returns at once: <see langword="true"/> when the record was queued, <see langword="false"/> when it was dropped
/// (queue full, client disposed, capture disabled or invalid input), which is counted, never thrown.
/// </summary>
public sealed class EmbeddingSet
{
    // 1 once this set's doubtful class probabilities were told (ChromaClient.TryEnqueue): the message is built once.
    private int _probabilityDoubtTold;

    internal EmbeddingSet(ChromaClient client, EmbeddingSetDescriptor descriptor, IReadOnlyList<string>? classNames)
    {
        Client = client;
        Descriptor = descriptor;
        ClassNames = classNames;
        DescriptorMessage = new Protocol.V1.EmbeddingSetDescriptor
        {
            Model = descriptor.Model,
            ModelVersion = descriptor.ModelVersion,
            Layer = descriptor.Layer,
            Dimension = descriptor.Dimension,
            Metric = (Protocol.V1.DistanceMetric)(int)descriptor.Metric,
        };
    }

    /// <summary>Whether this is the first time class probabilities of this set looked like something else (then they are told).</summary>
    internal bool FirstProbabilityDoubt() => Interlocked.Exchange(ref _probabilityDoubtTold, 1) == 0;

    /// <summary>The client that ships this set's records.</summary>
    public ChromaClient Client { get; }

    /// <summary>The set's model, version, layer, dimension and metric.</summary>
    public EmbeddingSetDescriptor Descriptor { get; }

    /// <summary>
    /// Names of the classes, in the order of the class probabilities, or <see langword="null"/> for "0".."n-1". When
    /// the set has names, a record whose class probabilities differ from them in number is refused as invalid input
    /// (<c>Log</c> returns <see langword="false"/>; counted in <see cref="ChromaStatistics.DroppedInvalid"/> and
    /// <see cref="ChromaClient.CaptureErrorCount"/>).
    /// </summary>
    public IReadOnlyList<string>? ClassNames { get; }

    internal Protocol.V1.EmbeddingSetDescriptor DescriptorMessage { get; }

    /// <summary>
    /// This set with <paramref name="classNames"/> as the names of the class probabilities its records carry: the
    /// same set on the server (same descriptor, same client), for a model whose scores are not in the order
    /// "0".."n-1" (an ML.NET model's <c>Score</c> follows its label keys, in order of first appearance). Returns this
    /// set when the names are already its own.
    /// </summary>
    /// <param name="classNames">Class names in the order of the class probabilities, or <see langword="null"/> for "0".."n-1".</param>
    public EmbeddingSet WithClassNames(IReadOnlyList<string>? classNames)
    {
        if (classNames is not null && classNames.Any(name => name is null))
        {
            throw new ArgumentException("A class name is null.", nameof(classNames));
        }

        var same = classNames is null ? ClassNames is null : ClassNames is not null && ClassNames.SequenceEqual(classNames, StringComparer.Ordinal);
        return same ? this : new EmbeddingSet(Client, Descriptor, classNames?.ToArray());
    }

    /// <summary>
    /// Whether a call made now should be captured: <see cref="ChromaClient.CaptureEnabled"/> is on and no
    /// <see cref="CaptureSuppression"/> scope is active. Adapters check it first, so capture switched off costs one
    /// branch.
    /// </summary>
    public bool ShouldCapture => Client.CaptureEnabled && !CaptureSuppression.IsActive;

    /// <summary>
    /// Reports a failure inside capture (a selector that threw, an unreadable output): counted in
    /// <see cref="ChromaClient.CaptureErrorCount"/> and logged once per adapter and exception type. Never throws.
    /// </summary>
    /// <param name="adapter">The adapter that failed, as shown in the log (e.g. <c>ML.NET Transform</c>).</param>
    /// <param name="exception">What was thrown.</param>
    public void ReportCaptureError(string adapter, Exception exception) =>
        Client.CaptureErrors.Report($"{adapter}: {exception?.GetType().Name}", exception);

    /// <summary>
    /// Reports a capture problem that has no exception (a missing column, a count mismatch): counted in
    /// <see cref="ChromaClient.CaptureErrorCount"/> and logged once per adapter and problem. Never throws.
    /// </summary>
    /// <param name="adapter">The adapter that met the problem, as shown in the log.</param>
    /// <param name="problem">What went wrong, in a few words.</param>
    public void ReportCaptureProblem(string adapter, string problem) =>
        Client.CaptureErrors.Report($"{adapter}: {problem}", exception: null);

    /// <summary>
    /// Reports a capture problem with the numbers of its first occurrence: counted in
    /// <see cref="ChromaClient.CaptureErrorCount"/>; the first time <paramref name="problem"/> is met for this adapter,
    /// <paramref name="detail"/> is what is logged (e.g. both sizes of a mismatch). Never throws.
    /// </summary>
    /// <param name="adapter">The adapter that met the problem, as shown in the log.</param>
    /// <param name="problem">What went wrong, in a few words; the same text each time (it decides what is logged once).</param>
    /// <param name="detail">The problem with this occurrence's numbers, logged the first time.</param>
    public void ReportCaptureProblem(string adapter, string problem, string detail) =>
        Client.CaptureErrors.Report($"{adapter}: {problem}", exception: null, $"{adapter}: {detail} (set '{Descriptor.Id}')");

    /// <summary>Logs a record of the training data, with its ground-truth label.</summary>
    /// <param name="embedding">The embedding; its length must be <see cref="EmbeddingSetDescriptor.Dimension"/>.</param>
    /// <param name="label">The ground-truth label, or <see langword="null"/>.</param>
    /// <param name="inputUri">Where the input came from (file path, URL, row key), or <see langword="null"/>.</param>
    /// <param name="metadata">Free-form metadata, copied; or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when queued; <see langword="false"/> when dropped (and counted).</returns>
    public bool LogTraining(
        ReadOnlySpan<float> embedding,
        string? label = null,
        string? inputUri = null,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Client.TryEnqueue(this, ChromaDatasets.Training, embedding, label, predictedClass: null, default, inputUri, metadata);

    /// <summary>Logs a record of production data, with what the model predicted.</summary>
    /// <param name="embedding">The embedding; its length must be <see cref="EmbeddingSetDescriptor.Dimension"/>.</param>
    /// <param name="predictedClass">The predicted class, or <see langword="null"/> when the model is not a classifier.</param>
    /// <param name="classProbabilities">The class probabilities (index = class), or empty; as many as <see cref="ClassNames"/> when the set has names.</param>
    /// <param name="inputUri">Where the input came from, or <see langword="null"/>.</param>
    /// <param name="metadata">Free-form metadata, copied; or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when queued; <see langword="false"/> when dropped (and counted).</returns>
    public bool LogProduction(
        ReadOnlySpan<float> embedding,
        string? predictedClass = null,
        ReadOnlySpan<float> classProbabilities = default,
        string? inputUri = null,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Client.TryEnqueue(this, ChromaDatasets.Production, embedding, label: null, predictedClass, classProbabilities, inputUri, metadata);

    /// <summary>Logs a record into any dataset (e.g. <c>validation</c>, <c>canary</c>).</summary>
    /// <param name="dataset">The dataset name, 1-64 characters of [A-Za-z0-9_.-].</param>
    /// <param name="embedding">The embedding; its length must be <see cref="EmbeddingSetDescriptor.Dimension"/>.</param>
    /// <param name="label">The ground-truth label, or <see langword="null"/>.</param>
    /// <param name="predictedClass">The predicted class, or <see langword="null"/>.</param>
    /// <param name="classProbabilities">The class probabilities, or empty; as many as <see cref="ClassNames"/> when the set has names.</param>
    /// <param name="inputUri">Where the input came from, or <see langword="null"/>.</param>
    /// <param name="metadata">Free-form metadata, copied; or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when queued; <see langword="false"/> when dropped (and counted).</returns>
    public bool Log(
        string dataset,
        ReadOnlySpan<float> embedding,
        string? label = null,
        string? predictedClass = null,
        ReadOnlySpan<float> classProbabilities = default,
        string? inputUri = null,
        IReadOnlyDictionary<string, string>? metadata = null) =>
        Client.TryEnqueue(this, dataset, embedding, label, predictedClass, classProbabilities, inputUri, metadata);
}
