using System.Globalization;
using Chroma.Server.Cli.Internal;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary>
/// <c>neighbours</c>: the nearest stored records to a stored record or to a vector, in the <c>training</c> dataset unless
/// <c>--dataset</c> names another (<c>all</c>: every dataset). Asked by record id, the record itself (distance 0) is left
/// out unless <c>--include-self</c> is given: the question is what else is near it.
/// </summary>
internal sealed class NeighboursCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "neighbours";

    /// <inheritdoc />
    public string Usage => "neighbours --set SET (--record ID | --vector 0.1,0.2,...) [--k 10] [--dataset training|production|NAME|all] [--include-self] [--breadth EF | --exact] [--json]";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var arguments = context.Arguments;
        var dataset = arguments.Get("dataset") ?? "training";
        var k = arguments.GetInt("k", 10, 1, 1000);
        var setId = arguments.Require("set");
        var query = new NearestQuery
        {
            K = k,
            Dataset = dataset == "all" ? null : dataset,
            SearchBreadth = arguments.GetInt("breadth", 0, 1, 10_000),
            Exact = arguments.Get("exact") is not null,
        };
        var recordId = arguments.Get("record");
        var includeSelf = arguments.Get("include-self") is not null;
        var vector = arguments.Get("vector");
        if ((recordId is null) == (vector is null))
        {
            throw new CliUsageException("give exactly one of --record ID or --vector v1,v2,...");
        }

        IReadOnlyList<ChromaNeighbor> neighbours;
        if (recordId is not null)
        {
            // One more, in case the record itself is among them (it is, at distance 0, when it is in the dataset).
            query.K = includeSelf ? k : k + 1;
            neighbours = await context.Client.FindNearestToRecordAsync(setId, recordId, query, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            neighbours = await context.Client.FindNearestAsync(setId, ParseVector(vector!).ToArray(), query, cancellationToken).ConfigureAwait(false);
        }

        var found = neighbours
            .Where(n => includeSelf || recordId is null || !string.Equals(n.Record.Id, recordId, StringComparison.OrdinalIgnoreCase))
            .Take(k)
            .ToList();

        if (arguments.Json)
        {
            var neighbors = found.Select(n => new { distance = n.Distance, record = RecordView.From(n.Record) }).ToList();
            await CliJson.WriteLineAsync(context.Output, new { setId, neighbors }).ConfigureAwait(false);
            return CliExitCode.Success;
        }

        var title = $"{found.Count} nearest in {setId} ({query.Dataset ?? "all datasets"})";
        var table = new Table()
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("record").AddColumn("dataset")
            .AddColumn("label / predicted").AddColumn(new TableColumn("distance").RightAligned()).AddColumn("input");
        var rank = 0;
        foreach (var neighbor in found)
        {
            var record = RecordView.From(neighbor.Record);
            table.AddRow(
                (++rank).ToString(CultureInfo.InvariantCulture),
                Markup.Escape(record.Id),
                Markup.Escape(record.Dataset),
                Markup.Escape(record.Label ?? record.PredictedClass ?? string.Empty),
                neighbor.Distance.ToString("G5", CultureInfo.InvariantCulture),
                Markup.Escape(record.InputUri ?? string.Empty));
        }

        context.Console.WriteTitled(title, table);
        return CliExitCode.Success;
    }

    private static List<float> ParseVector(string text)
    {
        var values = new List<float>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!float.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
            {
                throw new CliUsageException($"--vector must be comma-separated finite numbers ('{part}' is not one)");
            }

            values.Add(value);
        }

        return values;
    }
}
