using System.Globalization;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using ProtoRecord = Chroma.Protocol.V1.Record;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// A training set of one vector logged again and again holds out one group of copies: its signals are calibrated against
/// one value, so no p-value goes below 1/2. The server says so (event 338), naming the counts, instead of ranking
/// silently on a calibration that cannot tell anything apart.
/// </summary>
[TestFixture]
public sealed class CoarseCalibrationTests
{
    [Test, CancelAfter(60_000)]
    public async Task Fit_TrainingOfOneRepeatedVector_WarnsThatOneHeldOutRecordCalibratesTheSignals(CancellationToken cancellationToken)
    {
        await using var server = await LoggedServer.StartAsync(minimumLevel: LogLevel.Information);
        var set = Records.Set(dimension: 4, model: "one-vector");
        var training = Enumerable.Range(0, 300).Select(i => Records.Make([1, 1, 1, 1], "training", i % 2 == 0 ? "a" : "b"));

        await LogAndRankAsync(server, set, training, cancellationToken);

        var warnings = server.Logs.Entries.Where(e => e.Event.Id == 338).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(warnings[0].Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(
                warnings[0].Message,
                Does.Contain(Records.SetId(set)).And.Contain("only 1 held-out").And.Contain("300 training records, 1 distinct").And.Contain("below 1/2 only where").And.Contain("at least 134 distinct"));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task Fit_EnoughDistinctTrainingRecords_NoWarning(CancellationToken cancellationToken)
    {
        await using var server = await LoggedServer.StartAsync(minimumLevel: LogLevel.Information);
        var set = Records.Set(dimension: 4, model: "distinct");
        var training = Enumerable.Range(0, 300).Select(i => Records.Make([i % 2, i * 0.01f, (i % 7) * 0.1f, (i % 11) * 0.1f], "training", (i % 2).ToString(CultureInfo.InvariantCulture)));

        await LogAndRankAsync(server, set, training, cancellationToken);

        Assert.That(server.Logs.Entries.Where(e => e.Event.Id == 321), Has.Some.Matches<CapturedLog>(e => e.Message.Contains(Records.SetId(set), StringComparison.Ordinal)), "the set was fitted");
        Assert.That(server.Logs.Entries.Where(e => e.Event.Id == 338), Is.Empty);
    }

    [Test, CancelAfter(60_000)]
    public async Task Fit_ManyClassesOfThreeRecords_WarnsPerClassInsteadOfAskingForRecordsItHas(CancellationToken cancellationToken)
    {
        // Probe X, X6: 1,000 classes of 3 held out 1 record, and the advice was to log 134 distinct training records.
        await using var server = await LoggedServer.StartAsync(minimumLevel: LogLevel.Information);
        var set = Records.Set(dimension: 4, model: "many-classes");
        var training = Enumerable.Range(0, 300).Select(i => Records.Make([i % 2, i * 0.01f, (i % 7) * 0.1f, (i % 11) * 0.1f], "training", (i / 3).ToString(CultureInfo.InvariantCulture)));

        await LogAndRankAsync(server, set, training, cancellationToken);

        var warnings = server.Logs.Entries.Where(e => e.Event.Id is 338 or 342).ToList();
        Assert.That(warnings, Has.Count.EqualTo(1));
        Assert.Multiple(() =>
        {
            Assert.That(warnings[0].Event.Id, Is.EqualTo(342));
            Assert.That(
                warnings[0].Message,
                Does.Contain("only 1 held-out").And.Contain("although it has 300 training records").And.Contain("over 100 classes").And.Contain("at least 4 training records for each class"));
        });
    }

    private static async Task LogAndRankAsync(LoggedServer server, EmbeddingSetDescriptor set, IEnumerable<ProtoRecord> training, CancellationToken cancellationToken)
    {
        var ingest = new Ingest.IngestClient(server.Invoker);
        var query = new Query.QueryClient(server.Invoker);
        var production = Enumerable.Range(0, 5).Select(i => Records.Make([i, -i, 2, 0.5f], "production"));
        using (var call = ingest.Log(cancellationToken: cancellationToken))
        {
            await call.RequestStream.WriteAsync(Records.Batch(set, [.. training, .. production]), cancellationToken);
            Assert.That(await call.ResponseStream.MoveNext(cancellationToken), Is.True);
            Assert.That(call.ResponseStream.Current.Error, Is.Null, call.ResponseStream.Current.Error?.Message);
            await call.RequestStream.CompleteAsync();
        }

        var page = await query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(set), AllScores = true, WaitForAcknowledged = true, WaitTimeoutMs = 30_000 },
            cancellationToken: cancellationToken);
        Assert.That(page.CoversRequest, Is.True);
        Assert.That(page.Recommendations, Has.Count.EqualTo(5));
    }
}
