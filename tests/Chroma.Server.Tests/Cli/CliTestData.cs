using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// A small, seeded embedding set: training records in two classes around two centres, production
/// records drifting away over time (later ones further from training).
/// </summary>
internal static class CliTestData
{
    public const int Dimension = 8;
    public const int TrainingCount = 60;
    public const int ProductionCount = 40;

    public static readonly EmbeddingSetDescriptor Set = new() { Model = "digits", ModelVersion = "1.0", Layer = "fc2", Dimension = Dimension };

    public static string SetId => Records.SetId(Set);

    public static IReadOnlyList<Record> Build()
    {
        var random = new Random(42);
        var records = new List<Record>();
        for (var i = 0; i < TrainingCount; i++)
        {
            var label = i % 2 == 0 ? "0" : "1";
            var record = Records.Make(Around(random, label == "0" ? -2f : 2f, 0f), "training", label,
                new Dictionary<string, string> { ["source"] = "train, batch \"a\"" });
            record.TimestampUnixMs = 1_700_000_000_000 + i;
            records.Add(record);
        }

        for (var i = 0; i < ProductionCount; i++)
        {
            // Later production records move along the second axis: drift grows with time.
            var record = Records.Make(Around(random, i % 2 == 0 ? -2f : 2f, i * 0.25f), "production");
            record.TimestampUnixMs = 1_700_100_000_000 + (i * 60_000L);
            record.InputUri = $"file://prod/{i}.png";
            records.Add(record);
        }

        return records;
    }

    public static async Task LogAsync(RunningServer server, IReadOnlyList<Record> records)
    {
        var acks = await server.LogAsync(Records.Batch(Set, [.. records]));
        Assert.That(acks.Sum(a => a.Accepted), Is.EqualTo(records.Count), "every record stored");
    }

    private static float[] Around(Random random, float x, float y)
    {
        var embedding = new float[Dimension];
        for (var d = 0; d < Dimension; d++)
        {
            embedding[d] = (float)((random.NextDouble() - 0.5) * 0.5);
        }

        embedding[0] += x;
        embedding[1] += y;
        return embedding;
    }
}
