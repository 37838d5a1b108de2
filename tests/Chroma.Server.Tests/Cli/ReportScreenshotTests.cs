using Chroma.Protocol.V1;
using Chroma.Server.Cli;
using Chroma.Server.Cli.Report;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// Renders the HTML report in headless Chromium and checks the picture itself: the training and
/// production points and the recommended rings are on the screen, not just in the markup.
/// </summary>
[TestFixture]
[Category("browser")]
public sealed class ReportScreenshotTests
{
    [Test]
    [CancelAfter(120_000)]
    public async Task Report_RenderedInChromium_PointsOfEachDatasetVisible(CancellationToken cancellationToken)
    {
        // CI installs chromium (.ci/run) and must fail without it; elsewhere a missing browser is inconclusive.
        var browser = HeadlessChromium.Find();
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.That(browser, Is.Not.Null, "headless Chromium is required on CI: apt-get install -y chromium");
        }
        else
        {
            Assume.That(browser, Is.Not.Null, "headless Chromium not installed (apt-get install -y chromium)");
        }

        await using var server = await RunningServer.StartAsync();
        using var folder = new TempDirectory();
        var records = CliTestData.Build();
        await CliTestData.LogAsync(server, records);
        var html = Path.Combine(folder.Path, "report.html");
        var (run, _) = await ReportCommandTests.WriteReportAsync(server, records.Where(r => r.Dataset == "production").ToList(), html);
        Assert.That(run.ExitCode, Is.EqualTo(CliExitCode.Success), run.Error);
        var png = Path.Combine(TestContext.CurrentContext.WorkDirectory, "report-screenshot.png");
        File.Delete(png);

        await HeadlessChromium.ScreenshotAsync(browser!, html, png, 1000, 1400, cancellationToken);

        TestContext.AddTestAttachment(png, "the rendered report");
        var image = PngImage.Read(png);
        // A point is a circle of radius 4 (about 50 pixels, ~30 of them exactly the fill colour
        // once anti-aliased edges are left out); the legend swatches add about 110 pixels per colour.
        Assert.Multiple(() =>
        {
            Assert.That(image.Width, Is.EqualTo(1000));
            Assert.That(image.Count(ReportColors.Training, tolerance: 2), Is.GreaterThan(CliTestData.TrainingCount * 20));
            Assert.That(image.Count(ReportColors.Production, tolerance: 2), Is.GreaterThan(CliTestData.ProductionCount * 20));
            // Five rings of about 130 pixels each; the legend's ring adds about 50.
            Assert.That(image.Count(ReportColors.Recommended, tolerance: 2), Is.GreaterThan(5 * 60));
            // The drift chart: a line through the window markers.
            Assert.That(image.Count(ReportColors.Drift, tolerance: 2), Is.GreaterThan(500));
        });
    }
}
