using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Storage;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Web;

/// <summary>A record's detail lists as many nearest training neighbours as its reasons count.</summary>
[TestFixture]
public sealed class StudioRecordNeighboursTests
{
    private static readonly EmbeddingSetDescriptor Descriptor = new() { Model = "m", ModelVersion = "1", Layer = "l", Dimension = 8 };

    [Test]
    [CancelAfter(60_000)]
    public async Task Record_ProductionRecord_ShowsTheTenNeighboursItsReasonsCount(CancellationToken cancellationToken)
    {
        // Arrange (probe Z, Z4: "7 of 10 are class 2" with 6 neighbours shown).
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var production = Batch("production", 30, 1);
        await server.LogAsync(Batch("training", 0, 30), production);
        var store = server.Server.Services.GetRequiredService<IRecordStore>();
        var sequence = store.GetRecordsByIds(store.FindSet("m/1/l")!, [production.Records[0].Id], includeEmbeddings: false).Single().Sequence;

        // Act
        var detail = JsonDocument.Parse(await http.GetStringAsync($"/api/record?set=m/1/l&sequence={sequence}", cancellationToken)).RootElement;

        // Assert
        Assert.That(detail.GetProperty("neighbors").GetArrayLength(), Is.EqualTo(10));
    }

    private static LogBatch Batch(string dataset, int first, int count) =>
        Records.Batch(Descriptor, [.. Enumerable.Range(first, count).Select(i => Records.Make(
            [.. Enumerable.Range(0, 8).Select(d => (float)Math.Sin((i * 0.7) + d))],
            dataset,
            dataset == "training" ? (i % 2).ToString(System.Globalization.CultureInfo.InvariantCulture) : null))]);
}
