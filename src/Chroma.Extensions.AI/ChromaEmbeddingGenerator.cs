using Microsoft.Extensions.AI;

namespace Chroma;

/// <summary>
/// Middleware for any <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of text: each generated embedding is logged
/// with its input text. Results and exceptions are the inner generator's, unchanged; the
/// records are queued before the awaited call returns, and capture problems are counted, never thrown.
/// </summary>
public sealed class ChromaEmbeddingGenerator : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    private const string Adapter = "embedding generator";
    private readonly EmbeddingSet _set;
    private readonly string _dataset;
    private readonly InputTextCapture _inputText;
    private readonly int _maxTextLength;

    /// <summary>Wraps <paramref name="innerGenerator"/>.</summary>
    /// <param name="innerGenerator">The generator to forward to.</param>
    /// <param name="set">Where embeddings go; its dimension must match the generator's.</param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ChromaEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> innerGenerator, EmbeddingSet set, ChromaEmbeddingGeneratorOptions? options = null)
        : base(innerGenerator)
    {
        ArgumentNullException.ThrowIfNull(set);
        options ??= new ChromaEmbeddingGeneratorOptions();
        options.Validate();
        _set = set;
        _dataset = options.Dataset;
        _inputText = options.InputText;
        _maxTextLength = options.MaxTextLength;
    }

    /// <inheritdoc />
    public override Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        if (!_set.ShouldCapture)
        {
            return base.GenerateAsync(values, options, cancellationToken);
        }

        // Captured inputs are paired with embeddings by position, so a lazy sequence is read once, here, and the
        // inner generator gets the same list.
        var inputs = values as IReadOnlyList<string> ?? values?.ToList();
        if (inputs is null)
        {
            return base.GenerateAsync(values!, options, cancellationToken);
        }

        return GenerateAndCaptureAsync(inputs, options, cancellationToken);
    }

    /// <summary>
    /// Awaits the inner generator, then queues the records before the caller resumes: a <c>FlushAsync</c> right after
    /// the awaited call includes them. The inner result and exception reach the caller unchanged; a failed or
    /// cancelled call is not logged.
    /// </summary>
    private async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAndCaptureAsync(
        IReadOnlyList<string> inputs,
        EmbeddingGenerationOptions? options,
        CancellationToken cancellationToken)
    {
        var embeddings = await base.GenerateAsync(inputs, options, cancellationToken).ConfigureAwait(false);
        Capture(inputs, embeddings);
        return embeddings;
    }

    private void Capture(IReadOnlyList<string> inputs, GeneratedEmbeddings<Embedding<float>> embeddings)
    {
        try
        {
            if (embeddings.Count != inputs.Count)
            {
                _set.ReportCaptureProblem(Adapter, "the generator returned a different number of embeddings than inputs");
                return;
            }

            for (var i = 0; i < inputs.Count; i++)
            {
                var text = Truncate(inputs[i]);
                _set.Log(
                    _dataset,
                    embeddings[i].Vector.Span,
                    inputUri: _inputText == InputTextCapture.InputUri ? text : null,
                    metadata: _inputText == InputTextCapture.Metadata && text is not null
                        ? new Dictionary<string, string>(1, StringComparer.Ordinal) { [ChromaEmbeddingGeneratorOptions.TextMetadataKey] = text }
                        : null);
            }
        }
#pragma warning disable CA1031 // Capture must never fail the user's call.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _set.ReportCaptureError(Adapter, ex);
        }
    }

    private string? Truncate(string? text)
    {
        if (text is null || text.Length <= _maxTextLength)
        {
            return text;
        }

        // Never between the two halves of a surrogate pair (an emoji): half of one goes on the wire as U+FFFD, and the
        // server refuses the whole record for it.
        var length = _maxTextLength;
        if (char.IsHighSurrogate(text[length - 1]) && char.IsLowSurrogate(text[length]))
        {
            length--;
        }

        return text[..length];
    }
}
