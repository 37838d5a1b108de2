using static Chroma.Benchmarks.Storage.ReplicaFollowCommand;

namespace Chroma.Benchmarks.Storage;

/// <summary>The table <c>replica-follow</c> prints: per replica, what it did between two snapshots.</summary>
internal static class FollowTable
{
    public static void Write(FollowSnapshot before, FollowSnapshot after, AcknowledgedProbe[] probes, (double Ms, bool Covered)[] caughtUp, double seconds, int ingested)
    {
        Console.WriteLine(Line($"  window          {seconds:F1} s from the first batch to both replicas covering the last ack (or giving up after 2 min); lease holder {after.Holder}, scores_revision {before.Revision} -> {after.Revision} (+{after.Revision - before.Revision} published passes)"));
        Console.WriteLine("  replica      lease    CPU-s  passes  pass-ms  follows  read-ms sum    p50    max  rows p50     max   wait-ack ms p50    p90    max  covered  last ack -> covers");
        for (var r = 0; r < after.Replicas.Length; r++)
        {
            var (was, now) = (before.Replicas[r], after.Replicas[r]);
            var passes = now.Passes[was.Passes.Length..];
            var follows = now.Follows[was.Follows.Length..];
            var readMs = follows.Select(f => f.Ms).Order().ToArray();
            var rows = follows.Select(f => (double)f.Rows).Order().ToArray();
            var probe = probes[r];
            Console.WriteLine(Line(
                $"  {now.Name + (r == 0 ? " (ingest)" : string.Empty),-12} {(after.Holds(now) ? "holder" : "-"),-6} {(now.Cpu - was.Cpu).TotalSeconds,7:F1} {passes.Length,7} {passes.Sum(p => p.Ms),8:F0} {follows.Length,8} {readMs.Sum(),12:F0} {AcknowledgedProbe.Percentile(readMs, 0.5),6:F0} {(readMs.Length == 0 ? 0 : readMs[^1]),6:F0} {AcknowledgedProbe.Percentile(rows, 0.5),9:F0} {(rows.Length == 0 ? 0 : rows[^1]),7:F0}   {probe.Latencies(),23} {probe.Covered,4}/{probe.Calls,-4}{(probe.Failed > 0 ? $" ({probe.Failed} failed)" : string.Empty)} {caughtUp[r].Ms,8:F0} ms{(caughtUp[r].Covered ? string.Empty : " (not covered)")}"));
        }

        foreach (var (was, now) in before.Replicas.Zip(after.Replicas))
        {
            var follows = now.Follows[was.Follows.Length..];
            if (follows.Length > 0)
            {
                var rows = follows.Sum(f => (long)f.Rows);
                Console.WriteLine(Line(
                    $"  follow reads    {now.Name} read {rows:N0} stored scores in {follows.Length} reads ({(double)rows / Math.Max(1, ingested):F1}x the {ingested:N0} records ingested; {follows.Sum(f => f.Ms) * 1000 / Math.Max(1, rows):F0} µs per row read)"));
            }
        }

        Console.WriteLine(Line($"  others          PostgreSQL {(after.Postgres - before.Postgres).TotalSeconds:F1} CPU-s; this process (ingest and query clients) {(after.Client - before.Client).TotalSeconds:F1} CPU-s; load {Load()}"));
    }
}
