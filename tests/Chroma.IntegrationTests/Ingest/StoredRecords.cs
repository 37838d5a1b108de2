using Chroma;

namespace Chroma.IntegrationTests.Ingest;

/// <summary>Reads back everything a set holds, page by page, through the public query API.</summary>
internal static class StoredRecords
{
    public static async Task<List<(int Producer, int Index)>> ReadAllKeysAsync(
        ChromaClient client, string setId, CancellationToken cancellationToken)
    {
        var keys = new List<(int, int)>();
        string? token = null;
        do
        {
            var page = await client.GetRecordsAsync(
                setId,
                new RecordQuery { PageSize = 1_000, PageToken = token, IncludeEmbeddings = true },
                cancellationToken);
            foreach (var record in page.Records)
            {
                keys.Add(RecordCodec.Decode(record.Embedding.Span));
            }

            token = page.NextPageToken;
        }
        while (!string.IsNullOrEmpty(token));

        return keys;
    }

    public static void AssertExactlyOnce(List<(int Producer, int Index)> seen, int producers, int perProducer)
    {
        var duplicates = seen.GroupBy(k => k).Count(g => g.Count() > 1);
        var missing = 0;
        var set = seen.ToHashSet();
        for (var p = 0; p < producers; p++)
        {
            for (var i = 0; i < perProducer; i++)
            {
                if (!set.Contains((p, i)))
                {
                    missing++;
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(missing, Is.Zero, "records lost");
            Assert.That(duplicates, Is.Zero, "records stored twice");
            Assert.That(seen, Has.Count.EqualTo(producers * perProducer), "stored count");
        });
    }
}
