using Microsoft.Playwright;

namespace Chroma.Studio.Tests;

/// <summary>
/// Playwright driving Debian's <c>chromium</c> (Playwright's own browsers are never downloaded). Headless,
/// WebGL through SwiftShader. On CI (<c>CI=true</c>) a missing browser fails the test; elsewhere it is inconclusive.
/// </summary>
internal sealed class StudioBrowser : IAsyncDisposable
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    private readonly IPlaywright _playwright;

    private StudioBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    /// <summary>Where screenshots go: the test results folder (attached to the TRX as well).</summary>
    public static string ScreenshotDirectory
    {
        get
        {
            var directory = Environment.GetEnvironmentVariable("STUDIO_SCREENSHOTS") is { Length: > 0 } configured
                ? configured
                : Path.Combine(TestContext.CurrentContext.WorkDirectory, "studio-screenshots");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }

    public static async Task<StudioBrowser> LaunchAsync()
    {
        var path = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured && File.Exists(configured)
            ? configured
            : Candidates.FirstOrDefault(File.Exists);
        if (Environment.GetEnvironmentVariable("CI") == "true")
        {
            Assert.That(path, Is.Not.Null, "Chromium is required on CI for the Studio browser tests: apt-get install -y chromium");
        }
        else
        {
            Assume.That(path, Is.Not.Null, "Chromium not installed (apt-get install -y chromium)");
        }

        var playwright = await Playwright.CreateAsync().WaitAsync(TimeSpan.FromSeconds(60));
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = path,
                Headless = true,
                Timeout = 60_000,
                // --no-sandbox: CI containers run as root; SwiftShader: WebGL without a GPU.
                Args = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
            }).WaitAsync(TimeSpan.FromSeconds(90));
            return new StudioBrowser(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async Task<IPage> NewPageAsync(int width = 1280, int height = 800)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            DeviceScaleFactor = 1,
            // Studio's policy forbids eval, which Playwright's string predicates use; the app itself never needs it.
            BypassCSP = true,
        });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var output = TestContext.Out;
        page.Console += (_, message) => output.WriteLine($"browser console {message.Type}: {message.Text}");
        page.PageError += (_, error) => output.WriteLine($"browser page error: {error}");
        return page;
    }

    /// <summary>Saves a screenshot of <paramref name="page"/> (or of one element) and attaches it to the test.</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name, string? selector = null)
    {
        var path = Path.Combine(ScreenshotDirectory, name + ".png");
        if (selector is null)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        }
        else
        {
            await page.Locator(selector).ScreenshotAsync(new LocatorScreenshotOptions { Path = path });
        }

        TestContext.AddTestAttachment(path, name);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
