using System.Diagnostics;
using System.Globalization;
using Chroma.Server.Hosting;
using Chroma.Server.Tests.Cli;
using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// The issue's goals measured in headless Chromium (SwiftShader WebGL, no GPU) against real servers: first full
/// paint of 200,000 points after navigation, pan/zoom frame time (requestAnimationFrame intervals in the page)
/// and label-and-advance in the review queue (key press to the next item current and to the next frame out).
/// Each is measured more than once and reported with the load average and the CPU time the browser's renderer and
/// GPU processes and the server (this process) used meanwhile. Explicit: it prints numbers for the report rather
/// than asserting wall-clock times on a shared machine.
/// The UMAP map of 200,000 points (minutes of server CPU) is measured too with <c>STUDIO_MEASURE_UMAP=1</c>.
/// <c>STUDIO_ASSETS=folder</c> serves the page's <c>.js</c>, <c>.css</c> and <c>.html</c> files from that folder instead of
/// the embedded ones (to compare two versions in one session on the same machine without rebuilding the server).
/// Run: <c>dotnet test tests/Chroma.Studio.Tests -c Release -s tests/tiers.runsettings --filter "FullyQualifiedName~StudioPerformanceMeasurements"</c>.
/// </summary>
[TestFixture]
[NonParallelizable]
[Explicit("measurement: prints timings for the report")]
[Category("Measurement")]
[Category("browser")]
public sealed class StudioPerformanceMeasurements
{
    private const int Points = 200_000;
    private const int Dimension = 16;
    private const int Rounds = 3;

    // One gesture of 240 frames from the fitted view: a pan every third frame (back and forth), zooms in then out between.
    private const string Gesture = @"async () => {
        const m = studio.map, w = m.canvas.clientWidth, h = m.canvas.clientHeight, times = [];
        m.fit();
        while (m.dirty) await new Promise(r => requestAnimationFrame(r));
        const before = { moved: m.movedFrames, full: m.fullDraws };
        let last = await new Promise(r => requestAnimationFrame(r));
        for (let i = 0; i < 240; i++) {
            const back = Math.floor(i / 40) % 2 ? -1 : 1;
            if (i % 3 === 0) m.panBy(7 * back, -4 * back); else m.zoomAt(w / 2, h / 2, i % 40 < 20 ? 1.03 : 1 / 1.03);
            const now = await new Promise(r => requestAnimationFrame(r));
            times.push(now - last);
            last = now;
        }
        // The gesture is over: frames until the crisp redraw is out, and that frame's interval.
        const stopped = last, full = m.fullDraws;
        while (m.fullDraws === full && performance.now() - stopped < 10000) last = await new Promise(r => requestAnimationFrame(r));
        const after = await new Promise(r => requestAnimationFrame(r));
        return { times, moved: m.movedFrames - before.moved, full: m.fullDraws - before.full, settleFrame: after - last,
            settled: after - stopped, fullDrawMs: m.lastFullDrawMs };
    }";

    [Test]
    [CancelAfter(900_000)]
    public async Task Map_200kPoints_FirstPaintAndPanZoomFrameTimes()
    {
        await using var browser = await StudioBrowser.LaunchAsync();
        var directory = Path.Combine(Path.GetTempPath(), "chroma-studio-perf-" + Guid.NewGuid().ToString("N"));
        await using var server = await ChromaServer.StartAsync(new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = directory,
            // Exact search only: the measurement is about the map, not a background HNSW build competing for the CPU.
            Indexing = { ExactSearchThreshold = int.MaxValue },
        });
        var ingest = Stopwatch.StartNew();
        await using (var client = new ChromaClient(new ChromaClientOptions { Endpoint = server.Endpoint, QueueCapacity = Points + 1, MaxBatchSize = 4096 }))
        {
            var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("perf", "1", "embedding", Dimension));
            var random = new Random(7);
            var vector = new float[Dimension];
            for (var i = 0; i < Points; i++)
            {
                var cluster = i % 10;
                for (var d = 0; d < Dimension; d++)
                {
                    vector[d] = (float)((d == cluster ? 6 : d == (cluster + 3) % Dimension ? -4 : 0) + (random.NextDouble() - 0.5) * 3);
                }

                Assert.That(set.LogProduction(vector, predictedClass: $"c{cluster}"), Is.True);
            }

            await client.FlushAsync().WaitAsync(TimeSpan.FromMinutes(5));
        }

        ingest.Stop();
        var results = new List<string> { Invariant($"ingest of {Points:N0} records: {ingest.Elapsed.TotalSeconds:F1} s; load average {ProcessCpu.LoadAverage}") };
        var page = await browser.NewPageAsync(1280, 800);
        await ServeAssetsOverrideAsync(page, results);
        var url = new Uri(server.WebEndpoint!, "/#map").AbsoluteUri;
        var paints = new List<double>();
        foreach (var run in new[] { "cold (first page right after the ingest: the map is projected by the background warmer or this request, whichever is first)", "warm (projection cached)", "warm, 2nd", "warm, 3rd" })
        {
            await page.GotoAsync("about:blank");
            var cpu = ProcessCpu.Read();
            await page.GotoAsync(url);
            await page.WaitForFunctionAsync($"window.studio && studio.map && studio.map.firstPaintMs !== undefined && studio.map.count === {Points}", null, new PageWaitForFunctionOptions { Timeout = 300_000 });
            var used = ProcessCpu.Read() - cpu;
            var firstPaint = await page.EvaluateAsync<double>("studio.map.firstPaintMs");
            var steps = await page.EvaluateAsync<double[]>("(() => { const t = studio.loadTimes; return [t.requested, t.response, t.parsed, t.colored, t.uploaded, studio.map.lastFullDrawMs]; })()");
            if (!run.StartsWith("cold", StringComparison.Ordinal))
            {
                paints.Add(firstPaint);
            }

            results.Add(Invariant($"first full paint, {run}: {firstPaint:F0} ms after navigation (map requested at {steps[0]:F0} ms, response {steps[1]:F0}, parsed {steps[2]:F0}, colours {steps[3]:F0}, uploaded {steps[4]:F0}, full draw {steps[5]:F0} ms main thread); {used}; load average {ProcessCpu.LoadAverage}"));
        }

        await StudioBrowser.ScreenshotAsync(page, "map-200k");
        var p95s = new List<double>();
        for (var round = 1; round <= Rounds; round++)
        {
            var cpu = ProcessCpu.Read();
            var gesture = await page.EvaluateAsync<GestureResult>(Gesture);
            var used = ProcessCpu.Read() - cpu;
            var sorted = gesture.Times.Order().ToArray();
            var p95 = sorted[(int)(sorted.Length * 0.95)];
            p95s.Add(p95);
            results.Add(Invariant($"pan/zoom round {round}, {sorted.Length} frames ({gesture.Moved} drew the moved snapshot, {gesture.Full} full draws): p50 {sorted[sorted.Length / 2]:F1} ms, p95 {p95:F1} ms, max {sorted[^1]:F1} ms; crisp redraw out {gesture.Settled:F0} ms after the last move (its frame {gesture.SettleFrame:F0} ms, full draw {gesture.FullDrawMs:F0} ms main thread); {used}; load average {ProcessCpu.LoadAverage}"));
        }

        // What a person sees during a gesture (the last full draw moved; settling held off) and after it (redrawn crisp
        // at the same view): the moved picture must have the points where the redraw puts them.
        await page.EvaluateAsync("(() => studio.map.fit())()");
        await page.WaitForFunctionAsync("!studio.map.dirty");
        await page.EvaluateAsync("(() => { const m = studio.map; m.settleMs = 1e9; for (let i = 0; i < 12; i++) { m.panBy(9, 5); m.zoomAt(500, 400, 1.04); } })()");
        await page.WaitForFunctionAsync("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))");
        var during = PngImage.Read(await StudioBrowser.ScreenshotAsync(page, "map-200k-during-gesture", "#map-wrap"));
        await page.EvaluateAsync("(() => { const m = studio.map; m.settleMs = 150; m.gestureUntil = 0; m.dirty = true; })()");
        await page.WaitForFunctionAsync("!studio.map.settling && !studio.map.dirty");
        var after = PngImage.Read(await StudioBrowser.ScreenshotAsync(page, "map-200k-after-gesture", "#map-wrap"));
        var agreement = PictureAgreement.Of(after, during, radius: 2);
        results.Add(Invariant($"moved picture vs crisp redraw at the same view: {agreement:P1} of the redraw's painted pixels painted within 2 px in the moved one"));

        results.Add(Invariant($"GOAL first full paint <= 2000 ms (warm): {string.Join(", ", paints.Select(p => p.ToString("F0", CultureInfo.InvariantCulture)))} ms -> {(paints.Max() <= 2000 ? "met" : "NOT met")} in these runs"));
        results.Add(Invariant($"GOAL pan/zoom frame p95 <= 33 ms: {string.Join(", ", p95s.Select(p => p.ToString("F1", CultureInfo.InvariantCulture)))} ms -> {(p95s.Max() <= 33 ? "met" : "NOT met")} in these runs"));
        if (Environment.GetEnvironmentVariable("STUDIO_MEASURE_UMAP") == "1")
        {
            await MeasureUmapAsync(page, url, results);
        }

        results.Add(Invariant($"process CPU (server + test) {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:F0} s; load average {ProcessCpu.LoadAverage}"));
        await ReportAsync("performance.txt", results);
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Left behind for the OS to clean.
        }

        Assert.That(agreement, Is.GreaterThan(0.9), "the picture shown during a gesture has the points where the redraw puts them");
    }

    // The neighbour embedding (STUDIO_MEASURE_UMAP=1; minutes of CPU at 200,000): fitted on a sample, every other
    // record placed by its nearest fitted rows.
    private static async Task MeasureUmapAsync(IPage page, string url, List<string> results)
    {
        var umap = Stopwatch.StartNew();
        var umapCpu = ProcessCpu.Read();
        await page.SelectOptionAsync("#projection", "umap");
        await page.WaitForFunctionAsync($"studio.data.projection === 'UMAP' && studio.map.count === {Points} && !studio.map.dirty", null, new PageWaitForFunctionOptions { Timeout = 600_000 });
        umap.Stop();
        results.Add(Invariant($"UMAP map of {Points:N0} points, computed on first request: {umap.Elapsed.TotalSeconds:F1} s wall; {ProcessCpu.Read() - umapCpu}"));
        await StudioBrowser.ScreenshotAsync(page, "map-200k-umap");
        await page.GotoAsync("about:blank");
        await page.GotoAsync(url);
        await page.SelectOptionAsync("#projection", "umap");
        var warmUmap = Stopwatch.StartNew();
        await page.WaitForFunctionAsync($"studio.data && studio.data.projection === 'UMAP' && studio.map.count === {Points} && !studio.map.dirty", null, new PageWaitForFunctionOptions { Timeout = 300_000 });
        results.Add(Invariant($"UMAP map after reload (cached on the server): {warmUmap.Elapsed.TotalMilliseconds:F0} ms from selecting it to painted"));
    }

    [Test]
    [CancelAfter(600_000)]
    public async Task ReviewQueue_LabelAndAdvance_TimeToNextItemPainted()
    {
        await using var browser = await StudioBrowser.LaunchAsync();
        await using var server = await MnistStudioServer.StartAsync(1_000, 300, 200);
        await server.Client.WaitForRecommendationsAsync(MnistStudioServer.Descriptor.Id, TimeSpan.FromSeconds(120));
        var page = await browser.NewPageAsync();
        var results = new List<string>();
        await ServeAssetsOverrideAsync(page, results);
        var painted = new List<double>();
        var warm = new List<double>();
        for (var round = 1; round <= Rounds; round++)
        {
            await page.GotoAsync("about:blank");
            await page.GotoAsync(new Uri(server.Studio, "/#queue").AbsoluteUri);
            await page.WaitForSelectorAsync("#queue-list li.current");
            var cpu = ProcessCpu.Read();

            // One key press labels the current item and makes the next current; timed to that and to the next frame
            // out after it (requestAnimationFrame, then a task), for ten presses; then until every label is stored.
            var times = await page.EvaluateAsync<double[]>(@"async () => {
                const out = [];
                for (let k = 0; k < 10 && studio.queueIndex < studio.queue.length - 1; k++) {
                  const next = studio.queue[studio.queueIndex + 1].sequence, t0 = performance.now();
                  document.dispatchEvent(new KeyboardEvent('keydown', { key: String(k % 10), bubbles: true }));
                  const shown = document.querySelector('#queue-list li.current').dataset.sequence == next ? performance.now() - t0 : -1;
                  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
                  out.push(shown, performance.now() - t0);
                }
                const t1 = performance.now();
                while (studio.pendingWrites > 0 && performance.now() - t1 < 30000) await new Promise(r => setTimeout(r, 5));
                out.push(performance.now() - t1);
                return out;
              }");
            var used = ProcessCpu.Read() - cpu;
            var current = times.SkipLast(1).Where((_, i) => i % 2 == 0).Order().ToArray();
            var frames = times.SkipLast(1).Where((_, i) => i % 2 == 1).Order().ToArray();
            painted.AddRange(frames);
            if (round > 1)
            {
                warm.AddRange(frames);
            }

            Assert.That(current.Min(), Is.GreaterThanOrEqualTo(0), "the next item is current right after every key");
            results.Add(Invariant($"label-and-advance round {round}, {frames.Length} key presses: next item current after p50 {current[current.Length / 2]:F1} ms (max {current[^1]:F1}); next frame out after p50 {frames[frames.Length / 2]:F1} ms, max {frames[^1]:F1} ms; all labels stored {times[^1]:F0} ms after the last press; {used}; load average {ProcessCpu.LoadAverage}"));
        }

        await StudioBrowser.ScreenshotAsync(page, "review-queue-after-labels");
        var all = painted.Order().ToArray();
        results.Add(Invariant($"GOAL label-and-advance < 100 ms to the next item painted: p50 {all[all.Length / 2]:F1} ms, p95 {all[(int)(all.Length * 0.95)]:F1} ms, max {all[^1]:F1} ms over {all.Length} presses -> {(all[(int)(all.Length * 0.95)] < 100 ? "met (p95)" : "NOT met (p95)")}"));

        // Round 1 runs in a browser just started: its GPU process compiles SwiftShader pipelines and allocates tiles as
        // the page first needs them, for any page; rounds 2 and 3 (the same page loaded again) show the key presses alone.
        var later = warm.Order().ToArray();
        results.Add(Invariant($"rounds 2-{Rounds} only (browser warm): p50 {later[later.Length / 2]:F1} ms, p95 {later[(int)(later.Length * 0.95)]:F1} ms, max {later[^1]:F1} ms over {later.Length} presses"));
        await ReportAsync("performance-queue.txt", results);
    }

    // STUDIO_ASSETS: the page's files from a folder instead of the server's embedded ones (the API stays the server's).
    private static async Task ServeAssetsOverrideAsync(IPage page, List<string> results)
    {
        if (Environment.GetEnvironmentVariable("STUDIO_ASSETS") is not { Length: > 0 } folder)
        {
            return;
        }

        results.Add($"page files (index.html, .js, .css) served from {folder}, not the embedded ones");
        await page.RouteAsync(
            url => url.EndsWith(".js", StringComparison.Ordinal) || url.EndsWith(".css", StringComparison.Ordinal) || new Uri(url).AbsolutePath == "/",
            async route =>
            {
                var name = new Uri(route.Request.Url).AbsolutePath is "/" ? "index.html" : Path.GetFileName(new Uri(route.Request.Url).AbsolutePath);
                var path = Path.Combine(folder, name);
                if (!File.Exists(path))
                {
                    await route.ContinueAsync();
                    return;
                }

                var type = Path.GetExtension(name) switch { ".js" => "text/javascript", ".css" => "text/css", _ => "text/html" };
                await route.FulfillAsync(new RouteFulfillOptions { Status = 200, ContentType = type + "; charset=utf-8", BodyBytes = await File.ReadAllBytesAsync(path) });
            });
    }

    private static async Task ReportAsync(string file, List<string> results)
    {
        foreach (var line in results)
        {
            TestContext.Out.WriteLine(line);
        }

        await File.WriteAllLinesAsync(Path.Combine(StudioBrowser.ScreenshotDirectory, file), results);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed class GestureResult
    {
        public double[] Times { get; set; } = [];

        public int Moved { get; set; }

        public int Full { get; set; }

        public double SettleFrame { get; set; }

        public double Settled { get; set; }

        public double FullDrawMs { get; set; }
    }
}
