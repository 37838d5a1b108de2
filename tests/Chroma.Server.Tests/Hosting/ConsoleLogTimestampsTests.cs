using System.Globalization;
using Chroma.Server.Hosting.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Chroma.Server.Tests.Hosting;

[TestFixture]
public sealed class ConsoleLogTimestampsTests
{
    [Test]
    public void AddUnlessConfigured_NothingConfigured_EachLineStartsWithItsUtcTime()
    {
        // Arrange
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        // Act
        var line = WriteOneEntry();

        // Assert
        Assert.That(line, Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "));
        var stamp = DateTimeOffset.ParseExact(line[..24], "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.That(stamp, Is.InRange(before, DateTimeOffset.UtcNow.AddSeconds(1)), "UTC, not local time");
    }

    [Test]
    public void AddUnlessConfigured_OperatorSetTheTimestampFormat_TheirFormatIsKept()
    {
        // Act
        var line = WriteOneEntry("--Logging:Console:FormatterOptions:TimestampFormat=[HH:mm:ss] ");

        // Assert
        Assert.That(line, Does.Match(@"^\[\d\d:\d\d:\d\d\] "));
    }

    [Test]
    public void AddUnlessConfigured_OperatorChoseAFormatter_SimpleFormatterLeftAsItWas()
    {
        // Act
        var line = WriteOneEntry("--Logging:Console:FormatterName=json");

        // Assert: the json formatter is the one used then; the simple one is not given a timestamp behind its back.
        Assert.That(line, Does.Not.Match(@"^\d{4}-"));
    }

    [TestCase("--Logging:Console:FormatterOptions:SingleLine=true")]
    [TestCase("--Logging:Console:FormatterOptions:TimestampFormat=[HH:mm:ss] ")]
    public void AddUnlessConfigured_FormatterOptionsWithoutAName_TheSimpleFormatterIsChosenByName(string setting)
    {
        // Without a name the console logger used its legacy format, which copies its own (empty) timestamp and
        // single-line settings over the simple formatter's options: what the operator set did nothing (probe V, V9).
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [setting] });
        ConsoleLogTimestamps.AddUnlessConfigured(builder.Logging, builder.Configuration);
        using var services = builder.Services.BuildServiceProvider();

        var console = services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue;
        var simple = services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<SimpleConsoleFormatterOptions>>().CurrentValue;

        Assert.That(console.FormatterName, Is.EqualTo(ConsoleFormatterNames.Simple));
        Assert.That(simple.SingleLine || simple.TimestampFormat == "[HH:mm:ss] ", Is.True, "the configured option is bound");
    }

    [Test]
    public void AddUnlessConfigured_SingleLineThroughTheConsoleLogger_OneLinePerEntry()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = ["--Logging:Console:FormatterOptions:SingleLine=true"] });
        ConsoleLogTimestamps.AddUnlessConfigured(builder.Logging, builder.Configuration);
        using var services = builder.Services.BuildServiceProvider();
        var name = services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName;
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == name);
        using var output = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Information, "Chroma.Server", new EventId(1), "listening", null, static (state, _) => state);

        formatter.Write(entry, null, output);

        Assert.That(output.ToString().TrimEnd().Split('\n'), Has.Length.EqualTo(1), output.ToString());
    }

    // One entry through the simple console formatter the standalone server's logging builds.
    private static string WriteOneEntry(params string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args });
        ConsoleLogTimestamps.AddUnlessConfigured(builder.Logging, builder.Configuration);
        using var services = builder.Services.BuildServiceProvider();
        var formatter = services.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        using var output = new StringWriter();
        var entry = new LogEntry<string>(LogLevel.Information, "Chroma.Server", new EventId(1), "listening", null, static (state, _) => state);
        formatter.Write(entry, null, output);
        return output.ToString();
    }
}
