using Chroma.Server.Hosting;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Hosting;

/// <summary>A host that is no address of this machine is named as the fault, not the port.</summary>
[TestFixture]
public sealed class HostAddressFailureTests
{
    [Test, CancelAfter(30_000)]
    public void StartAsync_HostNotAnAddressOfThisMachine_AddressFailureNamingTheHostSetting()
    {
        // Arrange: 10.9.9.9 is a private address no test machine is given.
        using var directory = new TempDirectory();

        // Act
        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() =>
            ChromaServer.StartAsync(new ChromaServerOptions { Host = "10.9.9.9", Port = 0, DataDirectory = directory.Path }));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Address));
            Assert.That(ex.ExitCode, Is.EqualTo(8));
            Assert.That(ex.Message, Does.Contain("10.9.9.9").And.Contain("Chroma__Host"));
            Assert.That(ex.Message, Does.Not.Contain("Chroma__Port"), "the port is not at fault");
        });
    }
}
