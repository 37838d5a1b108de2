using System.Diagnostics;
using System.Globalization;
using Chroma.Benchmarks.Data;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// <c>nearest-load --delete N</c>: a retention job on the filled set. The records of rows 0..N-1 are deleted, 10,000 a call,
/// while one client logs records of another seed at a steady rate; then one caller queries in 2 s windows until the
/// graph has been compacted (event 307 in the server's log) and holds every record read: recall against the exact
/// neighbours among the rows kept (a streamed record, drawn around other centres, rarely is one), answers that said the
/// index was behind, the index's counts. What readers meet while most of a large graph is deleted and rebuilt.
/// </summary>
internal static class RetentionRun
{
    private const int DeleteCall = 10_000;

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
        var ids = await IdsOfRowsBelowAsync(client, descriptor.Id, delete).ConfigureAwait(false);

        // The truth among the rows kept, as rows of the whole data.
        var kept = data[(delete * dimension)..(total * dimension)];
        var truth = ExactNeighbours.Compute(kept, total - delete, queries.Queries, queries.Count, dimension, ConcurrentQueries.K, "l2")
            .Select(row => row + delete).ToArray();

        using var stopLogging = new CancellationTokenSource();
        var logging = logMeanwhile(stopLogging.Token);
        var since = Stopwatch.StartNew();
        var calls = new List<double>();
        long deleted = 0;
        foreach (var chunk in ids.Chunk(DeleteCall))
        {
            var call = Stopwatch.StartNew();
            deleted += await client.DeleteAsync(descriptor.Id, chunk).ConfigureAwait(false);
            calls.Add(call.Elapsed.TotalMilliseconds);
        }

        calls.Sort();
        Console.WriteLine(NearestLoadCommand.Line($"  deleted         {deleted:N0} of {total:N0} records in {since.Elapsed.TotalSeconds:F1} s ({calls.Count} calls, p50 {calls[calls.Count / 2]:F0} ms, max {calls[^1]:F0} ms) while one client logs; load {NearestLoadCommand.Load()}"));
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
        foreach (var line in server.LogLines("ompact")) // events 319, 307 and 321
        {
            Console.WriteLine($"  server log: {line}");
        }
    }

    /// <summary>The ids of the set's records whose input URI names a row below <paramref name="rows"/> (read a page at a time).</summary>
    private static async Task<List<string>> IdsOfRowsBelowAsync(ChromaClient client, string setId, int rows)
    {
        var ids = new List<string>(rows);
        string? token = null;
        do
        {
            var page = await client.GetRecordsAsync(setId, new RecordQuery { PageSize = 1_000, PageToken = token }).ConfigureAwait(false);
            ids.AddRange(page.Records
                .Where(r => int.TryParse(r.InputUri, NumberStyles.None, CultureInfo.InvariantCulture, out var row) && row < rows)
                .Select(r => r.Id));
            token = page.NextPageToken;
        }
        while (token is not null);
        return ids;
    }
}
