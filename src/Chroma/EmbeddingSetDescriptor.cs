using System.Buffers;

namespace Chroma;

/// <summary>
/// Names an embedding set: one model, one version, one layer, one dimension. The server keys the set by
/// <see cref="Id"/> (<c>model/version/layer</c>); the first batch fixes its dimension.
/// </summary>
/// <param name="Model">The model name, 1-128 characters of [A-Za-z0-9_.-].</param>
/// <param name="ModelVersion">The model version, same alphabet.</param>
/// <param name="Layer">The layer the embedding comes from (e.g. <c>fc2</c>), same alphabet.</param>
/// <param name="Dimension">The embedding length; every logged embedding must have it.</param>
public sealed record EmbeddingSetDescriptor(string Model, string ModelVersion, string Layer, int Dimension)
{
    private static readonly SearchValues<char> s_nameChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-");

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
}
