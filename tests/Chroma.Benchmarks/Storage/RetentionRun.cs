using System.Diagnostics;
using System.Globalization;
using Chroma.Benchmarks.Data;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>nearest-load --delete N</c>: a retention job on the filled set. The records of rows 0..N-1 are deleted, 10,000 a call,
/// while one client logs records of another seed at a steady rate and one caller queries (1 s windows); then that caller
/// queries in 2 s windows until the graph has been compacted (event 407 in the server's log) and holds every record
/// read: recall against the exact neighbours among the rows kept (a streamed record, drawn around other centres, rarely
/// is one), answers that said the index was behind, the index's counts. What readers meet while most of a large graph is
/// deleted and rebuilt.
/// </summary>
internal static class RetentionRun
{
    private const int DeleteCall = 10_000;

    /// <summary>The start of the server's log line for a save of a graph (Debug).</summary>
    private const string SavedLine = "Saved the index";

    /// <summary>Part of the server's log line for removals held while the graph's file was written (Debug).</summary>
    private const string HeldLine = "deleted while the graph's file was written";

    public static async Task RunAsync(
        ReplicaProcess server,
        ChromaClient client,
        EmbeddingSetDescriptor descriptor,
        (float[] Data, int Total, int Delete) rows,
        (float[] Queries, int Count) queries,
        Func<CancellationToken, Task<long>> logMeanwhile)
    {
        var (data, total, delete) = rows;
        var dimension = descriptor.Dimension;
        var reading = Stopwatch.StartNew();
        var (ids, pages, slowestPageMs) = await IdsOfRowsBelowAsync(client, descriptor.Id, delete).ConfigureAwait(false);
        Console.WriteLine(NearestLoadCommand.Line($"  read the ids    of {ids.Count:N0} records to delete in {reading.Elapsed.TotalSeconds:F1} s ({pages:N0} GetRecords pages of 1,000, the slowest {slowestPageMs:F0} ms)"));

        // The truth among the rows kept, as rows of the whole data.
        var kept = data[(delete * dimension)..(total * dimension)];
        var truth = ExactNeighbours.Compute(kept, total - delete, queries.Queries, queries.Count, dimension, ConcurrentQueries.K, "l2")
            .Select(row => row + delete).ToArray();

        using var stopLogging = new CancellationTokenSource();
        var logging = logMeanwhile(stopLogging.Token);
        var savesBefore = server.LogLines(SavedLine).Length;
        var since = Stopwatch.StartNew();
        using var deletionsDone = new CancellationTokenSource();
        var queried = QueryUntilAsync(client, descriptor.Id, queries, dimension, truth, deletionsDone.Token);
        var calls = new List<double>();
        long deleted = 0;
        foreach (var chunk in ids.Chunk(DeleteCall))
        {
            var call = Stopwatch.StartNew();
            deleted += await client.DeleteAsync(descriptor.Id, chunk).ConfigureAwait(false);
            calls.Add(call.Elapsed.TotalMilliseconds);
        }

        var deleting = since.Elapsed;
        await deletionsDone.CancelAsync().ConfigureAwait(false);
        var windows = await queried.ConfigureAwait(false);
        calls.Sort();
        Console.WriteLine(NearestLoadCommand.Line($"  deleted         {deleted:N0} of {total:N0} records in {deleting.TotalSeconds:F1} s ({calls.Count} calls, p50 {calls[calls.Count / 2]:F0} ms, max {calls[^1]:F0} ms) while one client logs; {server.LogLines(SavedLine).Length - savesBefore} saves of the graph meanwhile; load {NearestLoadCommand.Load()}"));
        Console.WriteLine("  queries while the deletions were made (one caller, 1 s windows; recall against the rows kept, so records not yet deleted count as misses)");
        foreach (var window in windows)
        {
            Console.WriteLine(NearestLoadCommand.Line($"    {window}"));
        }

        Console.WriteLine("  queries while the graph is compacted (one caller, 2 s windows; time since the deletions began)");
        while (true)
        {
            server.ThrowIfExited();
            var index = (await client.ListSetsAsync().ConfigureAwait(false)).First(s => s.SetId == descriptor.Id).Index;
            var compacted = server.LogLines("Compacted the index").Length > 0;
            if (compacted && index is { } done && done.GraphCount >= done.IndexedCount)
            {
                break;
            }

            if (since.Elapsed > TimeSpan.FromMinutes(30))
            {
                throw new TimeoutException("the graph was not compacted within 30 minutes of the deletions");
            }

            var window = await ConcurrentQueries.RunAsync(
                client, descriptor.Id, queries.Queries, queries.Count, dimension, truth, ConcurrentQueries.K, 1, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            Console.WriteLine(NearestLoadCommand.Line($"    {since.Elapsed.TotalSeconds,6:F0} s  {index?.IndexedCount ?? 0:N0} indexed, {index?.GraphCount ?? 0:N0} in the graph{(compacted ? " (compacted)" : string.Empty)}: {window}; load {NearestLoadCommand.Load()}"));
        }

        await stopLogging.CancelAsync().ConfigureAwait(false);
        var streamed = await logging.ConfigureAwait(false);
        var after = await ConcurrentQueries.RunAsync(
            client, descriptor.Id, queries.Queries, queries.Count, dimension, truth, ConcurrentQueries.K, 1, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        Console.WriteLine(NearestLoadCommand.Line($"  compacted       {since.Elapsed.TotalSeconds:F0} s after the deletions began; {streamed:N0} records logged meanwhile; then: {after}"));
        foreach (var line in server.LogLines("ompact").Concat(server.LogLines(HeldLine))) // events 419, 407, 421 and 422
        {
            Console.WriteLine($"  server log: {line}");
        }
    }

    /// <summary>One caller's queries in 1 s windows until <paramref name="stop"/> is cancelled: what readers meet while the records are deleted.</summary>
    private static async Task<List<ConcurrentQueries.Result>> QueryUntilAsync(
        ChromaClient client, string setId, (float[] Queries, int Count) queries, int dimension, int[] truth, CancellationToken stop)
    {
        var windows = new List<ConcurrentQueries.Result>();
        while (!stop.IsCancellationRequested)
        {
            windows.Add(await ConcurrentQueries.RunAsync(
                client, setId, queries.Queries, queries.Count, dimension, truth, ConcurrentQueries.K, 1, TimeSpan.FromSeconds(1)).ConfigureAwait(false));
        }

        return windows;
    }

    /// <summary>The ids of the set's records whose input URI names a row below <paramref name="rows"/> (read a page at a time).</summary>
    private static async Task<(List<string> Ids, int Pages, double SlowestPageMs)> IdsOfRowsBelowAsync(ChromaClient client, string setId, int rows)
    {
        var ids = new List<string>(rows);
        var (pages, slowest) = (0, 0.0);
        string? token = null;
        do
        {
            var started = Stopwatch.GetTimestamp();
            var page = await client.GetRecordsAsync(setId, new RecordQuery { PageSize = 1_000, PageToken = token }).ConfigureAwait(false);
            (pages, slowest) = (pages + 1, Math.Max(slowest, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
            ids.AddRange(page.Records
                .Where(r => int.TryParse(r.InputUri, NumberStyles.None, CultureInfo.InvariantCulture, out var row) && row < rows)
                .Select(r => r.Id));
            token = page.NextPageToken;
        }
        while (token is not null);
        return (ids, pages, slowest);
    }
}
