using System.Globalization;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;

namespace Chroma.Benchmarks.Recommendations;

/// <summary>
/// What rebuilding a stored score costs a read-back (a restart, a new replica's first read of a set, a whole read after a
/// refit): <see cref="ScoreCodec.FromStored"/> on rows <see cref="ScoreCodec.ToRow"/> wrote, shaped as a pass leaves
/// them (five signals, some with a lead and a boundary factor; a measurement with the other class), with a 128-d
/// embedding and 10 class probabilities per record. One thread; the database read is not included. Prints the median of
/// five timed runs after a warm-up.
/// </summary>
internal static class ScoreDecodeBenchmark
{
    public const string Usage = "[records (default 200000)] [dimension (default 128)]   (cost of rebuilding stored scores on a read-back)";

    public static int Run(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200_000;
        var dimension = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 128;
        var random = new Random(7);
        var stored = new PersistedScore[count];
        for (var i = 0; i < count; i++)
        {
            var embedding = new float[dimension];
            for (var j = 0; j < dimension; j++)
            {
                embedding[j] = (float)(random.NextDouble() - 0.5);
            }

            var probabilities = new float[10];
            probabilities[i % 10] = 0.91f;
            probabilities[(i + 1) % 10] = 0.09f;
            var measurement = new EmbeddingMeasurement(random.NextDouble() * 30, (i % 10).ToString(CultureInfo.InvariantCulture), new NeighborSignals(random.NextDouble(), 0.3, 10, "2", 3))
            {
                RelativeMahalanobis = random.NextDouble(),
                NearestTrainingDistance = random.NextDouble(),
            };
            var signals = MedianTiming.FiveSignals(random);
            var record = new ScoredRecord($"r{i}", "v1", new float[dimension], (i % 10).ToString(CultureInfo.InvariantCulture), measurement, null, signals)
            {
                ShiftLeadSurprise = i % 3 == 0 ? random.NextDouble() : null,
                BoundaryFactor = i % 4 == 0 ? random.NextDouble() : 1,
            };
            var row = ScoreCodec.ToRow(i + 1, record);
            var scorable = new ScorableRecord(i + 1, $"r{i}", "production", embedding, record.PredictedClass, probabilities);
            stored[i] = new PersistedScore(scorable, "v1", row.SignalsJson, row.MeasurementJson, 0);
        }

        var ms = MedianTiming.Milliseconds(() =>
        {
            for (var i = 0; i < stored.Length; i++)
            {
                ScoreCodec.FromStored(stored[i]);
            }
        });
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rebuilt {count:N0} stored scores of {dimension}-d in {ms:F0} ms: {ms * 1e6 / count:F0} ns a record, {ms * 1_000_000 / count / 1000:F1} s per million on one thread"));
        return 0;
    }
}
