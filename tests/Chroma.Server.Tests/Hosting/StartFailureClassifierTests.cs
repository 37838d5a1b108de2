using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Npgsql;

namespace Chroma.Server.Tests.Hosting;

/// <summary>What a start that failed after the store opened exits with.</summary>
[TestFixture]
public sealed class StartFailureClassifierTests
{
    [Test]
    public void Classify_PostgresConnectionLostDuringStart_SettingFailureSayingItMayBeRestarting()
    {
        // Arrange: what a hosted service's first query threw when PostgreSQL restarted just after the store opened
        // (seen in the replica cluster test: the process died of it with SIGABRT, exit code 134).
        var lost = new NpgsqlException("Exception while reading from stream", new EndOfStreamException("Attempted to read past the end of the stream."));

        // Act
        var failure = StartFailureClassifier.Classify(lost, new ChromaServerOptions());

        // Assert
        Assert.That(failure, Is.Not.Null, "a start failure, not an unhandled exception");
        Assert.Multiple(() =>
        {
            Assert.That(failure!.Failure, Is.EqualTo(ChromaServerStartFailure.Setting), "exit code 5, as a database unreachable at open");
            Assert.That(failure.Message, Is.EqualTo(
                "lost the connection to PostgreSQL while starting (Attempted to read past the end of the stream.); it may be restarting: start the server again"));
            Assert.That(failure.InnerException, Is.SameAs(lost));
        });
    }
}
