namespace Chroma.Server.Validation;

/// <summary>An embedding must have exactly the set's dimension and only finite values below <see cref="FiniteValues.MaxEmbeddingMagnitude"/> in magnitude.</summary>
internal static class EmbeddingValidator
{
    /// <summary>Null when <paramref name="values"/> fits a set of <paramref name="dimension"/>, else the problem.</summary>
    public static ValidationError? Validate(ReadOnlySpan<float> values, int dimension, string field, int recordIndex = -1)
    {
        if (values.Length == 0)
        {
            return ValidationError.Invalid($"{field}: is empty", recordIndex);
        }

        if (values.Length != dimension)
        {
            return ValidationError.Invalid(
                $"{field}: has {values.Length} values, the set's dimension is {dimension}", recordIndex);
        }

        return FiniteValues.ValidateEmbedding(values, field, recordIndex);
    }
}
