using System.Globalization;
using Chroma;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// Records for the replica tests, logged through a real client: three clusters (class c around 5 e_c), training rows
/// spread 1.5 wide, production rows 3 wide with their label as prediction and fixed class probabilities.
/// </summary>
internal static class ThreeClusterRecords
{
    /// <summary>Logs <paramref name="training"/> training records, then <paramref name="production"/> production records, flushes, and returns the set's id.</summary>
    public static async Task<string> IngestAsync(Uri endpoint, EmbeddingSetDescriptor descriptor, int training, int production, int seed, CancellationToken cancellationToken)
    {
        await using var client = new ChromaClient(new ChromaClientOptions { Endpoint = endpoint, QueueCapacity = 100_000, MaxBatchSize = 2_000 });
        var set = client.GetEmbeddingSet(descriptor);
        var random = new Random(seed);
        var row = new float[descriptor.Dimension];
        for (var i = 0; i < training + production; i++)
        {
            var cls = i % 3;
            for (var j = 0; j < row.Length; j++)
            {
                row[j] = (float)((random.NextDouble() - 0.5) * (i < training ? 1.5 : 3)) + (j == cls ? 5 : 0);
            }

            var label = cls.ToString(CultureInfo.InvariantCulture);
            var queued = i < training ? set.LogTraining(row, label) : set.LogProduction(row, label, [0.8f, 0.1f, 0.1f]);
            Assert.That(queued, Is.True, "the client queue holds the batch");
        }

        await client.FlushAsync(cancellationToken);
        return set.Descriptor.Id;
    }
}
