using System.Diagnostics;
using static Chroma.Benchmarks.Storage.ReplicaFollowCommand;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// One run of <c>replica-follow</c>: the set made through replica A (started) until A serves a ranking, so A holds the
/// set's scoring lease; then replica B (<paramref name="startB"/>) until it serves one too; the paced ingest under the
/// probes; the table.
/// </summary>
internal sealed class FollowRun(string connectionString, ReplicaProcess a, Func<ReplicaProcess> startB, Workload workload)
{
    private const int ClientCapacity = 100_000;
    private static readonly TimeSpan CatchUpWait = TimeSpan.FromMinutes(2);

    public async Task ExecuteAsync()
    {
        await using var queryA = QueryClient(a);
        await a.WaitAnsweringAsync(queryA).ConfigureAwait(false);
        await using var sender = new ChromaClient(new ChromaClientOptions
        {
            Endpoint = a.Endpoint,
            QueueCapacity = ClientCapacity,
            MaxBatchSize = workload.Batch,
            FlushInterval = TimeSpan.FromMilliseconds(20),
        });
        var set = sender.GetEmbeddingSet(workload.Descriptor);
        var setId = workload.Descriptor.Id;

        // 1. Training records and one batch of production records (so the first ranking has rows); A scores them (and
        // holds the lease); then B starts and serves that ranking.
        var setup = Stopwatch.StartNew();
        workload.LogTraining(set);
        var (warmup, warmupPredicted, warmupOrder) = workload.ProductionRows(workload.Batch, seed: 3);
        Send(set, warmup, warmupPredicted, warmupOrder);
        await sender.FlushAsync().ConfigureAwait(false);
        var readyA = await queryA.WaitForRecommendationsAsync(setId, TimeSpan.FromMinutes(3)).ConfigureAwait(false);
        var scoredByA = setup.Elapsed;
        var b = startB();
        await using var bOwned = b.ConfigureAwait(false);
        await using var queryB = QueryClient(b);
        await b.WaitAnsweringAsync(queryB).ConfigureAwait(false);
        var readyB = await queryB.WaitForRecommendationsAsync(setId, TimeSpan.FromMinutes(3)).ConfigureAwait(false);
        Console.WriteLine(Line($"  setup           {workload.Training:N0} training + {workload.Batch} production records through A: A serves a ranking of them after {scoredByA.TotalSeconds:F1} s ({readyA.ScoredRecords} scored), B (started then) after {setup.Elapsed.TotalSeconds:F1} s ({readyB.ScoredRecords}); load {Load()}"));

        // 2-3. Paced ingest through A while both replicas are probed once a second.
        var (rows, predicted, order) = workload.ProductionRows(workload.Production, seed: 2);
        var before = new FollowSnapshot(a, b, connectionString, setId);
        await before.ReadLeaseAsync().ConfigureAwait(false);
        var probeA = new AcknowledgedProbe();
        var probeB = new AcknowledgedProbe();
        using var stop = new CancellationTokenSource();
        var probes = Task.WhenAll(probeA.RunAsync(queryA, setId, stop.Token), probeB.RunAsync(queryB, setId, stop.Token));
        var (wall, behind) = await PacedIngestAsync(sender, set, rows, predicted, order).ConfigureAwait(false);

        // From the last ack: how long until each replica serves a ranking that covers it (the probes' calls under way finish meanwhile).
        var caughtUp = await Task.WhenAll(AcknowledgedProbe.OnceAsync(queryA, setId, CatchUpWait), AcknowledgedProbe.OnceAsync(queryB, setId, CatchUpWait)).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        await probes.ConfigureAwait(false);
        var after = new FollowSnapshot(a, b, connectionString, setId);
        await after.ReadLeaseAsync().ConfigureAwait(false);
        var stored = await queryA.CountAsync(setId).ConfigureAwait(false);
        Console.WriteLine(Line($"  ingest          {workload.Production:N0} production records in {wall.TotalSeconds:F1} s through A ({workload.Production / wall.TotalSeconds:N0}/s asked {workload.Rate:N0}/s; at most {behind.TotalMilliseconds:F0} ms behind schedule; {stored:N0} stored; {sender.Statistics.Dropped} dropped); load {Load()}"));
        FollowTable.Write(before, after, [probeA, probeB], caughtUp, (after.Taken - before.Taken).TotalSeconds, workload.Production);
    }

    private static ChromaClient QueryClient(ReplicaProcess replica) =>
        new(new ChromaClientOptions { Endpoint = replica.Endpoint, RequestTimeout = TimeSpan.FromMinutes(2) });

    private static void Send(EmbeddingSet set, float[] rows, string[] predicted, ReadOnlySpan<int> order)
    {
        var d = Workload.Dimension;
        foreach (var row in order)
        {
            set.LogProduction(rows.AsSpan(row * d, d), predicted[row]);
        }
    }

    /// <summary>Batch k is queued at k * batch / rate seconds and flushed (acknowledged) before the next; returns the wall time and the worst lag behind that schedule.</summary>
    private async Task<(TimeSpan Wall, TimeSpan Behind)> PacedIngestAsync(ChromaClient sender, EmbeddingSet set, float[] rows, string[] predicted, int[] order)
    {
        var clock = Stopwatch.StartNew();
        var behind = TimeSpan.Zero;
        for (var (start, k) = (0, 0); start < order.Length; start += workload.Batch, k++)
        {
            var due = TimeSpan.FromSeconds((double)k * workload.Batch / workload.Rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait).ConfigureAwait(false);
            }
            else if (-wait > behind)
            {
                behind = -wait;
            }

            Send(set, rows, predicted, order.AsSpan(start, Math.Min(workload.Batch, order.Length - start)));
            await sender.FlushAsync().ConfigureAwait(false);
        }

        return (clock.Elapsed, behind);
    }
}
