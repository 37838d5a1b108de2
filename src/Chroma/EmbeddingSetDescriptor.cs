using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Chroma;

/// <summary>
/// Names an embedding set: one model, one version, one layer, one dimension, one metric. The server keys the set
/// by <see cref="Id"/> (<c>model/version/layer</c>; the metric is not part of it); the first batch fixes its
/// dimension and <see cref="Metric"/>.
/// </summary>
public sealed class EmbeddingSetDescriptor : IEquatable<EmbeddingSetDescriptor>
{
    private static readonly SearchValues<char> s_nameChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

    /// <summary>Creates a descriptor; set every required property.</summary>
    public EmbeddingSetDescriptor()
    {
    }

    /// <summary>Creates a descriptor from its four parts.</summary>
    /// <param name="model">The model name, 1-128 characters of [A-Za-z0-9_.-].</param>
    /// <param name="modelVersion">The model version, same alphabet.</param>
    /// <param name="layer">The layer the embedding comes from (e.g. <c>fc2</c>), same alphabet.</param>
    /// <param name="dimension">The embedding length; every logged embedding must have it.</param>
    [SetsRequiredMembers]
    public EmbeddingSetDescriptor(string model, string modelVersion, string layer, int dimension)
    {
        Model = model;
        ModelVersion = modelVersion;
        Layer = layer;
        Dimension = dimension;
    }

    /// <summary>The model name, 1-128 characters of [A-Za-z0-9_.-].</summary>
    public required string Model { get; init; }

    /// <summary>The model version, same alphabet.</summary>
    public required string ModelVersion { get; init; }

    /// <summary>The layer the embedding comes from (e.g. <c>fc2</c>), same alphabet.</summary>
    public required string Layer { get; init; }

    /// <summary>The embedding length; every logged embedding must have it.</summary>
    public required int Dimension { get; init; }

    /// <summary>
    /// The distance the set is searched and scored by. The default value is <see cref="DistanceMetric.Unspecified"/>:
    /// an existing set keeps its metric, a new set is created as <see cref="DistanceMetric.L2"/>. Naming a metric
    /// other than an existing set's fails its batches (the server answers FailedPrecondition, naming both).
    /// </summary>
    public DistanceMetric Metric { get; init; }

    /// <summary>The set id the server uses: <c>model/version/layer</c>.</summary>
    public string Id => $"{Model}/{ModelVersion}/{Layer}";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first field that the server would reject.</summary>
    public void Validate()
    {
        ValidateName(Model, nameof(Model));
        ValidateName(ModelVersion, nameof(ModelVersion));
        ValidateName(Layer, nameof(Layer));
        if (Dimension <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Dimension), Dimension, "Dimension must be positive.");
        }

        if (!Enum.IsDefined(Metric))
        {
            throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "Metric must be Unspecified, L2 or Cosine.");
        }
    }

    internal static bool IsValidName(string? value, int maxLength) =>
        !string.IsNullOrEmpty(value) && value.Length <= maxLength && !value.AsSpan().ContainsAnyExcept(s_nameChars);

    private static void ValidateName(string value, string field)
    {
        if (!IsValidName(value, 128))
        {
            throw new ArgumentException($"{field} '{value}' must be 1-128 characters of [A-Za-z0-9_.-].", field);
        }
    }

    /// <summary>Whether <paramref name="other"/> names the same set with the same dimension and metric (ordinal comparison).</summary>
    /// <param name="other">The descriptor to compare with.</param>
    /// <returns><see langword="true"/> when all five parts are equal.</returns>
    public bool Equals(EmbeddingSetDescriptor? other) =>
        other is not null
        && string.Equals(Model, other.Model, StringComparison.Ordinal)
        && string.Equals(ModelVersion, other.ModelVersion, StringComparison.Ordinal)
        && string.Equals(Layer, other.Layer, StringComparison.Ordinal)
        && Dimension == other.Dimension
        && Metric == other.Metric;

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as EmbeddingSetDescriptor);

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(StringComparer.Ordinal.GetHashCode(Model), StringComparer.Ordinal.GetHashCode(ModelVersion), StringComparer.Ordinal.GetHashCode(Layer), Dimension, Metric);

    /// <inheritdoc />
    public override string ToString() => Metric == DistanceMetric.Unspecified ? $"{Id} ({Dimension})" : $"{Id} ({Dimension}, {Metric})";
}
