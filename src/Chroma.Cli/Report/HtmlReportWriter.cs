using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Chroma.Server.Cli.Report;

/// <summary>
/// Writes the report as one self-contained HTML file: inline CSS, the scatter drawn by Chroma Studio's own point
/// renderer (<c>Web/Assets/map.js</c>, embedded verbatim, with the points as inline JSON), the drift chart as
/// inline SVG; nothing is fetched from anywhere, so it opens offline.
/// </summary>
internal static class HtmlReportWriter
{
    private const int Width = 900;
    private const int Height = 560;
    private const int Margin = 30;
    private const int DriftHeight = 200;

    private static readonly JsonSerializerOptions ScatterJson = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    // Draws the embedded points with Studio's PointMap, synchronously (a headless screenshot sees the picture),
    // then keeps pan, zoom and the hover card working as in Studio.
    private const string ScatterScript = """
        (() => {
          const d = JSON.parse(document.getElementById("points").textContent);
          const canvas = document.getElementById("projection"), overlay = document.getElementById("projection-overlay");
          const map = new PointMap(canvas, overlay);
          const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
          const colors = new Uint8Array(d.x.length * 4);
          d.color.forEach((c, i) => { const [r, g, b] = rgb(c); colors.set([r, g, b, 255], 4 * i); });
          map.pointSize = 8;
          map.setPoints(Float32Array.from(d.x), Float32Array.from(d.y), colors);
          map.rings = { indexes: d.recommended, color: d.ringColor, radius: 7 };
          map.fit();
          map.draw();
          window.reportMap = map;
          const tip = document.getElementById("tip");
          let drag = null;
          canvas.addEventListener("pointerdown", (e) => { drag = [e.offsetX, e.offsetY]; });
          canvas.addEventListener("pointerup", () => { drag = null; });
          canvas.addEventListener("pointermove", (e) => {
            if (drag) { map.panBy(e.offsetX - drag[0], e.offsetY - drag[1]); drag = [e.offsetX, e.offsetY]; return; }
            const i = map.pick(e.offsetX, e.offsetY, 6);
            if (i < 0) { tip.style.display = "none"; return; }
            tip.textContent = d.tip[i];
            tip.style.display = "block"; tip.style.left = (e.clientX + 12) + "px"; tip.style.top = (e.clientY + 12) + "px";
          });
          canvas.addEventListener("wheel", (e) => { e.preventDefault(); map.zoomAt(e.offsetX, e.offsetY, Math.exp(-e.deltaY * 0.0015)); }, { passive: false });
        })();

        """;

    /// <summary>Renders <paramref name="model"/> to HTML.</summary>
    public static string Render(ReportModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var html = new StringBuilder(64 * 1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<title>Chroma report: ").Append(Encode(model.SetId)).Append("</title>")
            .Append("<style>body{font-family:system-ui,sans-serif;margin:16px;color:#222;background:#fff}")
            .Append("h1{font-size:20px}h2{font-size:16px;margin-top:24px}.note{color:#666}")
            .Append("svg{background:#fff;border:1px solid #ddd}")
            .Append(Format($".map{{position:relative;width:{Width}px;height:{Height}px;border:1px solid #ddd;overflow:hidden}}.map canvas{{position:absolute;inset:0;width:100%;height:100%}}#projection-overlay{{pointer-events:none}}"))
            .Append("#tip{position:fixed;pointer-events:none;background:#fffbe6;border:1px solid #999;padding:6px;font-size:12px;display:none;max-width:420px}")
            .Append("table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 6px;text-align:left}</style></head><body>\n");
        html.Append("<h1>Chroma: ").Append(Encode(model.SetId)).Append("</h1>\n<p class=\"note\">")
            .Append(Format($"{model.Points.Count:N0} of {model.TotalRecords:N0} records shown, dimension {model.Dimension}, generated {model.GeneratedAt:yyyy-MM-dd HH:mm} UTC. "))
            .Append("Projection: first two principal components (variance ")
            .Append(string.Join(", ", model.ComponentVariances.Select(v => v.ToString("G3", CultureInfo.InvariantCulture))))
            .Append(").</p>\n");

        AppendLegend(html);
        AppendScatter(html, model.Points);
        AppendRecommendations(html, model);
        AppendDrift(html, model);
        html.Append("<div id=\"tip\"></div>\n<script>\n")
            .Append(StudioMapScript.Read().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase))
            .Append("\n</script>\n<script>\n")
            .Append(ScatterScript)
            .Append("</script>\n<script>\n")
            .Append("const tip=document.getElementById('tip');\n")
            .Append("document.querySelectorAll('[data-tip]').forEach(e=>{")
            .Append("e.addEventListener('mousemove',ev=>{tip.textContent=e.dataset.tip;tip.style.display='block';tip.style.left=(ev.clientX+12)+'px';tip.style.top=(ev.clientY+12)+'px';});")
            .Append("e.addEventListener('mouseleave',()=>{tip.style.display='none';});});\n")
            .Append("</script>\n</body></html>\n");
        return html.ToString();
    }

    private static void AppendLegend(StringBuilder html)
    {
        html.Append("<p>")
            .Append(Swatch(ReportColors.Training, "training")).Append(Swatch(ReportColors.Production, "production"))
            .Append(Swatch(ReportColors.Other, "other datasets"))
            .Append("<span style=\"display:inline-block;width:10px;height:10px;border:2px solid ").Append(ReportColors.Recommended)
            .Append(";border-radius:50%\"></span> recommended (hover for reasons)</p>\n");
    }

    private static string Swatch(string color, string label) =>
        $"<span style=\"display:inline-block;width:12px;height:12px;background:{color};border-radius:50%\"></span> {label} &nbsp; ";

    private static void AppendScatter(StringBuilder html, IReadOnlyList<ReportPoint> points)
    {
        // Datasets interleaved in an order fixed by the record id (later points win), so a large production set does
        // not hide training where they overlap, nor the reverse; recommended points last, so their rings stay on top.
        var ordered = points.OrderBy(p => p.RecommendationRank.HasValue ? 1 : 0).ThenBy(p => StableOrder(p.Id)).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();
        var data = new ScatterData(
            [.. ordered.Select(p => p.X)],
            [.. ordered.Select(p => p.Y)],
            [.. ordered.Select(p => ReportColors.ForDataset(p.Dataset))],
            [.. ordered.Select(p => p.Dataset)],
            [.. ordered.Select((p, i) => (p, i)).Where(x => x.p.RecommendationRank.HasValue).Select(x => x.i)],
            [.. ordered.Select(Tip)],
            ReportColors.Recommended);
        html.Append("<div class=\"map\"><canvas id=\"projection\"></canvas><canvas id=\"projection-overlay\"></canvas></div>\n")
            .Append("<p class=\"note\">principal component 1 → (horizontal), principal component 2 → (vertical); drag to pan, wheel to zoom, hover a point for its record.</p>\n")
            .Append("<script type=\"application/json\" id=\"points\">")
            .Append(JsonSerializer.Serialize(data, ScatterJson).Replace("</", "<\\/", StringComparison.Ordinal))
            .Append("</script>\n");
    }

    private static string Tip(ReportPoint point)
    {
        var tip = new StringBuilder();
        if (point.RecommendationRank is { } rank)
        {
            tip.Append(Format($"#{rank} recommended: ")).AppendJoin("; ", point.Reasons).Append(". ");
        }

        tip.Append(point.Dataset).Append(' ').Append(point.Id);
        if (point.Label is not null)
        {
            tip.Append(", label ").Append(point.Label);
        }

        if (point.PredictedClass is not null)
        {
            tip.Append(", predicted ").Append(point.PredictedClass);
        }

        if (point.InputUri is not null)
        {
            tip.Append(", ").Append(point.InputUri);
        }

        return tip.ToString();
    }

    private static void AppendRecommendations(StringBuilder html, ReportModel model)
    {
        html.Append("<h2>Recommended for review</h2>\n");
        var recommended = model.Points.Where(p => p.RecommendationRank.HasValue).OrderBy(p => p.RecommendationRank).ToList();
        if (recommended.Count == 0)
        {
            html.Append("<p class=\"note\">").Append(Encode(model.RecommendationsNote ?? "The server recommended no records.")).Append("</p>\n");
            return;
        }

        html.Append("<table id=\"recommendations\"><tr><th>#</th><th>input</th><th>record</th><th>predicted</th><th>why</th></tr>\n");
        foreach (var point in recommended)
        {
            html.Append(Format($"<tr><td>{point.RecommendationRank}</td><td>{Encode(point.InputUri ?? string.Empty)}</td><td>{Encode(point.Id)}</td><td>{Encode(point.PredictedClass ?? string.Empty)}</td><td>{Encode(string.Join("; ", point.Reasons))}</td></tr>\n"));
        }

        html.Append("</table>\n");
    }

    private static void AppendDrift(StringBuilder html, ReportModel model)
    {
        html.Append("<h2>Drift over time (MMD² of production windows against training)</h2>\n");
        if (model.Drift.Count == 0)
        {
            html.Append("<p class=\"note\">").Append(Encode(model.DriftNote ?? "Not enough data for a drift score.")).Append("</p>\n");
            return;
        }

        // The plot area: room on the left for the MMD² values, below for the window times.
        const int Left = 80, Right = Width - Margin, Top = Margin, Bottom = DriftHeight - 40;
        html.Append(Format($"<svg id=\"drift\" width=\"{Width}\" height=\"{DriftHeight}\" viewBox=\"0 0 {Width} {DriftHeight}\" xmlns=\"http://www.w3.org/2000/svg\" font-size=\"11\" fill=\"#444\">\n"));
        var maxMmd = Math.Max(1e-12, model.Drift.Max(d => d.Mmd2));
        var step = model.Drift.Count > 1 ? (Right - Left) / (double)(model.Drift.Count - 1) : 0;
        var x0 = model.Drift.Count > 1 ? Left : (Left + Right) / 2.0;
        var coordinates = model.Drift.Select((d, i) => (X: x0 + (i * step), Y: Bottom - (Math.Max(0, d.Mmd2) / maxMmd * (Bottom - Top)), Window: d)).ToList();

        // Axes: MMD² from 0 to the largest window's value, with a grid line at half; the first and last window's times.
        html.Append(Format($"<line x1=\"{Left}\" y1=\"{Bottom}\" x2=\"{Right}\" y2=\"{Bottom}\" stroke=\"#999\"/><line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Bottom}\" stroke=\"#999\"/>\n"));
        foreach (var fraction in new[] { 0.0, 0.5, 1.0 })
        {
            var y = Bottom - (fraction * (Bottom - Top));
            if (fraction > 0)
            {
                html.Append(Format($"<line x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Right}\" y2=\"{y:F1}\" stroke=\"#eee\"/>"));
            }

            html.Append(Format($"<text class=\"axis-y\" x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{fraction * maxMmd:G3}</text>\n"));
        }

        html.Append(Format($"<text x=\"14\" y=\"{(Top + Bottom) / 2}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {(Top + Bottom) / 2})\">MMD²</text>\n"));
        var first = model.Drift[0];
        var last = model.Drift[^1];
        html.Append(Format($"<text class=\"axis-x\" x=\"{Left}\" y=\"{Bottom + 16}\" text-anchor=\"start\">{Time(first.StartUnixMs)} UTC</text>"));
        if (model.Drift.Count > 1)
        {
            html.Append(Format($"<text class=\"axis-x\" x=\"{Right}\" y=\"{Bottom + 16}\" text-anchor=\"end\">{Time(last.EndUnixMs)} UTC</text>"));
        }

        html.Append(Format($"<text x=\"{(Left + Right) / 2}\" y=\"{Bottom + 32}\" text-anchor=\"middle\">production windows by capture time ({model.Drift.Count} windows)</text>\n"));
        html.Append("<polyline fill=\"none\" stroke=\"").Append(ReportColors.Drift).Append("\" stroke-width=\"2\" points=\"")
            .AppendJoin(' ', coordinates.Select(c => Format($"{c.X:F1},{c.Y:F1}"))).Append("\"/>\n");
        foreach (var (x, y, window) in coordinates)
        {
            var tip = Format($"{Time(window.StartUnixMs)} to {Time(window.EndUnixMs)}: MMD² {window.Mmd2:G3}, p = {window.PValue:G3}, {window.Records} records");
            html.Append(Format($"<circle class=\"drift-pt\" cx=\"{x:F1}\" cy=\"{y:F1}\" r=\"5\" fill=\"{(window.PValue < 0.05 ? ReportColors.Drift : "#fff")}\" stroke=\"{ReportColors.Drift}\" data-tip=\"{Encode(tip)}\"><title>{Encode(tip)}</title></circle>\n"));
        }

        html.Append("</svg>\n<p class=\"note\">").Append(Encode(model.DriftNote ?? string.Empty))
            .Append(" Filled markers: p &lt; 0.05 (drift unlikely to be chance); hover a marker for its window.</p>\n");
    }

    private static string Time(long unixMs) =>
        DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    // A fixed pseudo-random position for a record (FNV-1a of its id), the same in every report of the same records.
    private static uint StableOrder(string id)
    {
        var hash = 2166136261u;
        foreach (var c in id)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return hash;
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>The scatter's points as the page reads them (in drawing order).</summary>
    private sealed record ScatterData(double[] X, double[] Y, string[] Color, string[] Dataset, int[] Recommended, string[] Tip, string RingColor);

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
