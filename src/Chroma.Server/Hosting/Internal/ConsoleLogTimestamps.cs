using Microsoft.Extensions.Logging.Console;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// The standalone server's console log starts each entry with its UTC time, so an operator can tell when something
/// happened; an operator who configured the console formatter (<c>Logging:Console:FormatterName</c> or
/// <c>Logging:Console:FormatterOptions</c>) gets exactly what they configured.
/// </summary>
internal static class ConsoleLogTimestamps
{
    /// <summary>The timestamp each entry starts with: ISO 8601 in UTC with milliseconds.</summary>
    public const string Format = "yyyy-MM-dd'T'HH:mm:ss.fff'Z' ";

    private const string ConsoleSection = "Logging:Console";

    /// <summary>Adds the UTC timestamp to the simple console formatter unless <paramref name="configuration"/> configures the console formatter.</summary>
    public static void AddUnlessConfigured(ILoggingBuilder logging, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(logging);
        ArgumentNullException.ThrowIfNull(configuration);
        var console = configuration.GetSection(ConsoleSection);
        if (console["FormatterName"] is not null)
        {
            return;
        }

        if (console.GetSection("FormatterOptions").Exists())
        {
            // Options without a formatter name: the console logger would use its legacy format, which replaces the
            // simple formatter's options with its own (SingleLine and TimestampFormat were ignored, probe V, V9). The
            // simple formatter is chosen by name, so what was configured applies as configured.
            logging.AddSimpleConsole();
            return;
        }

        logging.AddSimpleConsole(simple =>
        {
            simple.TimestampFormat = Format;
            simple.UseUtcTimestamp = true;
        });
    }
}
