using Chroma.Protocol.V1;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>Builds valid records and batches; tests then break the one field they are about.</summary>
internal static class Records
{
    public static EmbeddingSetDescriptor Set(int dimension = 4, string model = "model") =>
        new() { Model = model, ModelVersion = "1", Layer = "fc", Dimension = dimension };

    public static string SetId(EmbeddingSetDescriptor set) => $"{set.Model}/{set.ModelVersion}/{set.Layer}";

    public static Record Make(float[] embedding, string dataset = "training", string? label = null, IDictionary<string, string>? metadata = null)
    {
        var record = new Record
        {
            Id = Guid.CreateVersion7().ToString(),
            Dataset = dataset,
            InputUri = "file://input.png",
            Label = label ?? string.Empty,
            TimestampUnixMs = 1_700_000_000_000,
            Inference = new Inference { PredictedClass = "1", ClassProbabilities = { 0.25f, 0.75f }, ClassNames = { "a", "b" } },
        };
        record.Embedding.AddRange(embedding);
        if (metadata is not null)
        {
            record.Metadata.Add(metadata);
        }

        return record;
    }

    public static LogBatch Batch(EmbeddingSetDescriptor set, params Record[] records)
    {
        var batch = new LogBatch { BatchId = Guid.NewGuid().ToString(), Set = set.Clone() };
        batch.Records.AddRange(records);
        return batch;
    }

    /// <summary>Records i = 0..count-1 with embedding [i, 0, 0, ...], alternating datasets and parity metadata.</summary>
    public static Record[] Sequence(int count, int dimension = 4, int start = 0)
    {
        var records = new Record[count];
        for (var i = 0; i < count; i++)
        {
            var embedding = new float[dimension];
            embedding[0] = start + i;
            var n = start + i;
            records[i] = Make(
                embedding,
                dataset: n % 5 == 0 ? "production" : "training",
                label: (n % 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
                metadata: new Dictionary<string, string> { ["parity"] = n % 2 == 0 ? "even" : "odd" });
        }

        return records;
    }
}
