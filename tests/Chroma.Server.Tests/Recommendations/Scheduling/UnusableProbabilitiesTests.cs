using Chroma.Protocol.V1;
using Chroma.Server.Tests.Reliability;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.Logging;
using ProtoRecord = Chroma.Protocol.V1.Record;

namespace Chroma.Server.Tests.Recommendations.Scheduling;

/// <summary>
/// Logits logged as class probabilities are stored and the records ranked, without the probability signals; the
/// server says so once per set (event 333) instead of leaving the signals out silently.
/// </summary>
[TestFixture]
public sealed class UnusableProbabilitiesTests
{
    [Test, CancelAfter(60_000)]
    public async Task Recommendations_ProductionWithLogits_RankedWithoutProbabilitySignalsAndWarnedOncePerSet(CancellationToken cancellationToken)
    {
        await using var server = await LoggedServer.StartAsync(minimumLevel: LogLevel.Information);
        var ingest = new Ingest.IngestClient(server.Invoker);
        var query = new Query.QueryClient(server.Invoker);
        var set = Records.Set(dimension: 4, model: "logits");
        var training = Enumerable.Range(0, 40).Select(i => Record(i, "training", label: (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture), probabilities: [0.2f, 0.8f]));

        // Act: training, then two batches of production records whose "probabilities" are logits.
        await LogAsync(ingest, Records.Batch(set, [.. training, .. Enumerable.Range(0, 5).Select(i => Record(i, "production", probabilities: [-1.5f, 2.5f]))]), cancellationToken);
        var first = await RankedAsync(query, set, cancellationToken);
        await LogAsync(ingest, Records.Batch(set, [.. Enumerable.Range(5, 5).Select(i => Record(i, "production", probabilities: [-0.5f, 0.5f]))]), cancellationToken);
        var second = await RankedAsync(query, set, cancellationToken);

        // Assert
        var warnings = server.Logs.Entries.Where(e => e.Event.Id == 333).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(first.Recommendations, Has.Count.EqualTo(5));
            Assert.That(second.Recommendations, Has.Count.EqualTo(10));
            Assert.That(second.Recommendations.SelectMany(r => r.Signals).Select(s => s.Signal), Has.None.AnyOf("entropy", "margin", "least_confidence"));
            Assert.That(second.Recommendations.SelectMany(r => r.Signals).Select(s => s.Signal), Has.Some.EqualTo("mahalanobis"));
            Assert.That(warnings, Has.Count.EqualTo(1), "one warning per set");
            Assert.That(warnings[0].Level, Is.EqualTo(LogLevel.Warning));
            Assert.That(warnings[0].Message, Does.Contain(Records.SetId(set)).And.Contain("5 in this pass").And.Contain("logits"));
        });
    }

    private static ProtoRecord Record(int i, string dataset, string label = "", float[]? probabilities = null)
    {
        var record = Records.Make([i % 2, (i % 7) * 0.1f, (i % 3) * 0.2f, 1], dataset, label);
        record.Inference = new Inference { PredictedClass = (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) };
        record.Inference.ClassProbabilities.AddRange(probabilities ?? []);
        return record;
    }

    private static async Task LogAsync(Ingest.IngestClient ingest, LogBatch batch, CancellationToken cancellationToken)
    {
        using var call = ingest.Log(cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(batch, cancellationToken);
        Assert.That(await call.ResponseStream.MoveNext(cancellationToken), Is.True);
        Assert.That(call.ResponseStream.Current.Error, Is.Null, call.ResponseStream.Current.Error?.Message);
        await call.RequestStream.CompleteAsync();
    }

    private static async Task<GetRecommendationsResponse> RankedAsync(Query.QueryClient query, EmbeddingSetDescriptor set, CancellationToken cancellationToken)
    {
        var page = await query.GetRecommendationsAsync(
            new GetRecommendationsRequest { SetId = Records.SetId(set), AllScores = true, WaitForAcknowledged = true, WaitTimeoutMs = 30_000 },
            cancellationToken: cancellationToken);
        Assert.That(page.CoversRequest, Is.True);
        return page;
    }
}
