using System.Globalization;
using Spectre.Console;

namespace Chroma.Samples.Shared;

/// <summary>Ends a sample: waits until the server has scored what it holds, then prints its top recommendations.</summary>
internal static class RecommendationsTable
{
    /// <summary>
    /// The server scores production data in the background after each ingest; wait until it has caught up, then show
    /// what it recommends looking at (or labelling) first, and why.
    /// </summary>
    public static async Task ShowAsync(ChromaClient client, EmbeddingSet set, int count = 10)
    {
        var stored = await client.CountAsync(set.Descriptor.Id, ChromaDatasets.Production);
        var top = await client.WaitForRecommendationsAsync(
            set.Descriptor.Id, stored, TimeSpan.FromMinutes(2), new RecommendationQuery { PageSize = count });
        var table = new Table().AddColumns("#", "input", "predicted", "score", "why");
        foreach (var (item, rank) in top.Items.Select((item, i) => (item, i + 1)))
        {
            table.AddRow(
                rank.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(item.Record.InputUri ?? item.Record.Id),
                Markup.Escape(item.Record.PredictedClass ?? "-"),
                item.Score.ToString("F1", CultureInfo.InvariantCulture),
                Markup.Escape(string.Join("; ", item.Reasons)));
        }

        AnsiConsole.MarkupLine($"Top recommendations of {top.ScoredRecords:N0} scored production inputs:");
        AnsiConsole.Write(table);
    }
}
