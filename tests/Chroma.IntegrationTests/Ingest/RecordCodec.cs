namespace Chroma.IntegrationTests.Ingest;

/// <summary>Writes (producer, index) into an embedding so the stored copy says where it came from.</summary>
internal static class RecordCodec
{
    public static void Encode(float[] vector, int producer, int index)
    {
        vector[0] = producer;
        vector[1] = index;
        for (var d = 2; d < vector.Length; d++)
        {
            vector[d] = ((index * 31) + d) % 97 / 97f;
        }
    }

    public static (int Producer, int Index) Decode(ReadOnlySpan<float> vector) => ((int)vector[0], (int)vector[1]);
}
