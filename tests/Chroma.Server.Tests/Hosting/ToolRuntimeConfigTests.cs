using System.Text.Json;
using NUnit.Framework;

namespace Chroma.Server.Tests.Hosting;

/// <summary>The runtime settings the standalone server (chroma-server, the container's program) ships with.</summary>
public class ToolRuntimeConfigTests
{
    [Test]
    public void RuntimeConfig_StandaloneServer_CompilesEveryMethodOptimisedAtFirstCall()
    {
        // Tiered compilation off: a restarted replica otherwise answers 2-4x slower for its first seconds under load
        // (benchmarks README, "Tiered compilation off in chroma-server").
        var path = Path.Combine(AppContext.BaseDirectory, "Chroma.Server.Tool.runtimeconfig.json");
        using var config = JsonDocument.Parse(File.ReadAllText(path));

        var options = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.That(options.GetProperty("System.Runtime.TieredCompilation").GetBoolean(), Is.False);
    }
}
