using System.Diagnostics;

namespace Chroma.Server.Tests.Cli;

/// <summary>Headless Chromium (Debian package <c>chromium</c>) taking a screenshot of a local page.</summary>
internal static class HeadlessChromium
{
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    /// <summary>Gets the browser's path, or null when none is installed (CHROMIUM_PATH overrides the search).</summary>
    public static string? Find() =>
        Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } configured && File.Exists(configured)
            ? configured
            : Candidates.FirstOrDefault(File.Exists);

    /// <summary>Renders <paramref name="htmlPath"/> at the given window size into <paramref name="pngPath"/>.</summary>
    public static async Task ScreenshotAsync(string browser, string htmlPath, string pngPath, int width, int height, CancellationToken cancellationToken)
    {
        var profile = Path.Combine(Path.GetDirectoryName(pngPath)!, "chromium-profile");
        var start = new ProcessStartInfo(browser)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            // --no-sandbox: CI containers run as root, where Chromium's sandbox refuses to start.
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--force-device-scale-factor=1", $"--user-data-dir={profile}",
            $"--screenshot={pngPath}", $"--window-size={width},{height}", new Uri(htmlPath).AbsoluteUri,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {browser}");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        Assert.That(File.Exists(pngPath), Is.True, $"{browser} wrote no screenshot (exit {process.ExitCode}): {await stderr}");
    }
}
