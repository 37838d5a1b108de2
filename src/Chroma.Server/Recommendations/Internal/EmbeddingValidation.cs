namespace Chroma.Server.Recommendations;

/// <summary>Rejects embeddings the maths cannot use (NaN, infinity) with a message naming the row.</summary>
internal static class EmbeddingValidation
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the first row that holds a non-finite value.</summary>
    public static void ThrowIfNotFinite(float[] embeddings, int dimension, string paramName)
    {
        for (var i = 0; i < embeddings.Length; i++)
        {
            if (!float.IsFinite(embeddings[i]))
            {
                throw new ArgumentException($"{paramName} row {i / dimension} holds a non-finite value at column {i % dimension}.", paramName);
            }
        }
    }
}
