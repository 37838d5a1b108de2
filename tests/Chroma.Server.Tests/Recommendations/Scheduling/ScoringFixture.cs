using Chroma.Protocol.V1;
using Chroma.Server.Background;
using Chroma.Server.Recommendations;
using Chroma.Server.Recommendations.Scheduling;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Recommendations.Data;
using Chroma.Server.Tests.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A real SQLite store in a temp folder (fake clock) with the scoring pass wired to it, and seeded
/// clustered data: three training classes in 8 dimensions, production points near them or far off.
/// </summary>
internal sealed class ScoringFixture : IDisposable
{
    public const int Dimension = 8;
    public const int Classes = 3;
    public const int PerClass = 40;

    public ScoringFixture() => Set = Chroma.Server.Tests.TestSupport.Records.Set(Dimension, "scoring");

    public StoreFixture Storage { get; } = new();

    public EmbeddingSetDescriptor Set { get; }

    public ScoringOptions Options { get; } = new() { Debounce = TimeSpan.FromMilliseconds(500), MaxDelay = TimeSpan.FromSeconds(2) };

    /// <summary>Two dedicated threads for the passes' CPU work, as a server has.</summary>
    public BackgroundWorkLimiter Limiter { get; } = new(2, "scoring-test");

    /// <summary>The passes' minimum of production rows for the production-shift classifier (small, so tests stay fast).</summary>
    public const int ShiftMinimumRows = 50;

    /// <summary>A pass over the fixture's store, or over <paramref name="scores"/> (a wrapper of it) when given.</summary>
    public SetScoringPass CreatePass(IRecordScoreStore? scores = null, int chunkRecords = SetScoringPass.ChunkSize, ILogger<SetScoringPass>? logger = null) => new(
        scores ?? Storage.Scores,
        Limiter,
        BruteForceNeighborSearch.Factory,
        new RecommendationOptions { ProductionShiftMinimumRows = ShiftMinimumRows },
        new DriftOptions { Window = 100, SampleSize = 100, Permutations = 50 },
        Storage.Clock,
        logger ?? NullLogger<SetScoringPass>.Instance)
    {
        ChunkRecords = chunkRecords,
    };

    public StoredEmbeddingSet StoredSet => Storage.RequireSet(Set);

    /// <summary>Training clusters (labels "0".."2", class c centred at 6 e_c).</summary>
    public static Record[] Training(int perClass = PerClass, int seed = 1)
    {
        var (embeddings, labels) = SyntheticEmbeddings.Clusters(Classes, perClass, Dimension, separation: 6, seed);
        return [.. labels.Select((label, i) => Make(embeddings.AsSpan(i * Dimension, Dimension).ToArray(), "training", label, label))];
    }

    /// <summary>Production points around class 0's centre (in distribution).</summary>
    public static Record[] InDistribution(int count, int seed) =>
        Rows(SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 0, 6), count, 1, seed), "0");

    /// <summary>Production drawn as <see cref="Training"/> is (every class, unlabelled): a stream without shift.</summary>
    public static Record[] LikeTraining(int perClass, int seed) =>
        [.. Training(perClass, seed).Select(r => { r.Dataset = "production"; r.Label = string.Empty; return r; })];

    /// <summary>Points like <see cref="InDistribution"/> in the <c>reference</c> dataset.</summary>
    public static Record[] Reference(int count, int seed) =>
        [.. InDistribution(count, seed).Select(r => { r.Dataset = "reference"; return r; })];

    /// <summary>Production points far from every class (out of distribution).</summary>
    public static Record[] OutOfDistribution(int count, int seed) =>
        Rows(SyntheticEmbeddings.Around(SyntheticEmbeddings.Axis(Dimension, 7, 40), count, 1, seed), "0");

    public Task<IngestOutcome> IngestAsync(IEnumerable<Record> records) => Storage.IngestAsync(Set, [.. records]);

    public void Dispose()
    {
        Storage.Dispose();
        Limiter.Dispose();
    }

    private static Record[] Rows(float[] embeddings, string predicted) =>
        [.. Enumerable.Range(0, embeddings.Length / Dimension).Select(i => Make(embeddings.AsSpan(i * Dimension, Dimension).ToArray(), "production", null, predicted))];

    private static Record Make(float[] embedding, string dataset, string? label, string predicted)
    {
        var record = new Record
        {
            Id = Guid.CreateVersion7().ToString(),
            Dataset = dataset,
            Label = label ?? string.Empty,
            TimestampUnixMs = 1_700_000_000_000,
            Inference = new Inference { PredictedClass = predicted, ClassProbabilities = { 0.8f, 0.1f, 0.1f } },
        };
        record.Embedding.AddRange(embedding);
        return record;
    }
}
