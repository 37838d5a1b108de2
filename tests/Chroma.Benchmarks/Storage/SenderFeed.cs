using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>How the storage benchmarks feed records to a client's queue for ingest.</summary>
internal static class SenderFeed
{
    /// <summary>
    /// Waits until <paramref name="sender"/>'s queue can take <paramref name="chunk"/> more records below
    /// <paramref name="capacity"/>: the queue stays fed without overfilling (a full queue drops and counts, which would
    /// not be ingest).
    /// </summary>
    public static async Task WaitForRoomAsync(ChromaClient sender, int capacity, int chunk, CancellationToken cancellationToken = default)
    {
        while (sender.Statistics.Received - sender.Statistics.Exported > capacity - chunk)
        {
            await Task.Delay(1, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Logs rows [<paramref name="start"/>, <paramref name="end"/>) of <paramref name="data"/> as production records
    /// whose input URI is the row number: the key to the exact neighbours for recall.
    /// </summary>
    public static void LogRows(EmbeddingSet set, float[] data, int dimension, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            set.LogProduction(data.AsSpan(i * dimension, dimension), inputUri: i.ToString(CultureInfo.InvariantCulture));
        }
    }
}
