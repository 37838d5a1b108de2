using System.Reflection;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Hosting;

/// <summary>
/// Every log message the server defines has an event id of its own, so an operator who filters or alerts on one (the
/// README names them) gets one kind of line: the index's and the scoring's messages once shared 300-322, and the
/// store's and the host's 1-3.
/// </summary>
[TestFixture]
public sealed class LogEventIdTests
{
    [Test]
    public void ServerLogMessages_EachEventIdUsedOnce()
    {
        var messages = typeof(Chroma.Server.Hosting.ChromaServerOptions).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => (Method: $"{m.DeclaringType!.Name}.{m.Name}", Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(m => m.Attribute is not null)
            .ToList();

        var shared = messages.GroupBy(m => m.Attribute!.EventId)
            .Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(m => m.Method))}")
            .ToList();

        Assert.That(messages, Has.Count.GreaterThan(50), "the server's log messages were found");
        Assert.That(shared, Is.Empty);
    }
}
