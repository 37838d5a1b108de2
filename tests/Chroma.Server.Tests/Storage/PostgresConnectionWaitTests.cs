using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Postgres.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

/// <summary>A start waiting for a PostgreSQL that does not listen yet: retries with growing pauses, then gives up saying so.</summary>
[TestFixture]
public sealed class PostgresConnectionWaitTests
{
    [Test]
    public void Check_NothingListensForTheWholeWait_RetriesWithGrowingPausesThenGivesUpSayingHowLong()
    {
        // Arrange: a closed port refuses at once; the clock makes each pause instant and exact.
        var connectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={FreePort()};Database=chroma;Username=chroma;Password=pg-secret-4711;Timeout=3");
        using var dataSource = PostgresConnection.CreateDataSource(connectionString);
        var clock = new SteppingClock();
        var pauses = new List<TimeSpan>();

        // Act
        var ex = Assert.Throws<StorageStartException>(
            () => PostgresConnection.Check(dataSource, connectionString, TimeSpan.FromSeconds(10), clock, (_, _, pause) => pauses.Add(pause)));

        // Assert: 0.25, 0.5, 1, then 2 s pauses, the last one shortened to end with the 10 s; a last attempt then.
        Assert.Multiple(() =>
        {
            Assert.That(pauses.Select(p => p.TotalSeconds), Is.EqualTo(new[] { 0.25, 0.5, 1, 2, 2, 2, 2, 0.25 }));
            Assert.That(clock.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(10)));
            Assert.That(ex!.Message, Does.StartWith("Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString): cannot connect to PostgreSQL at Host=127.0.0.1;Port="));
            Assert.That(ex.Message, Does.EndWith("(gave up after 9 attempts in 10.0 s; Chroma:Storage:StartupTimeout is 00:00:10)"));
            Assert.That(ex.ToString(), Does.Not.Contain("pg-secret-4711"));
        });
    }

    [Test]
    public void Check_ShortWaitTheNextBackoffWouldPass_WaitsTheWholeTimeout()
    {
        // Arrange: 3 s, as an operator set it; after 1.75 s the next 2 s backoff step would pass the end.
        var connectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={FreePort()};Database=chroma;Username=chroma;Timeout=3");
        using var dataSource = PostgresConnection.CreateDataSource(connectionString);
        var clock = new SteppingClock();
        var pauses = new List<TimeSpan>();

        // Act
        var ex = Assert.Throws<StorageStartException>(
            () => PostgresConnection.Check(dataSource, connectionString, TimeSpan.FromSeconds(3), clock, (_, _, pause) => pauses.Add(pause)));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(pauses.Select(p => p.TotalSeconds), Is.EqualTo(new[] { 0.25, 0.5, 1, 1.25 }));
            Assert.That(clock.Elapsed, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(ex!.Message, Does.EndWith("(gave up after 5 attempts in 3.0 s; Chroma:Storage:StartupTimeout is 00:00:03)"));
        });
    }

    [Test]
    public void Check_ZeroWait_TriesOnceAndFailsAsBefore()
    {
        // Arrange
        var connectionString = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={FreePort()};Database=chroma;Username=chroma;Timeout=3");
        using var dataSource = PostgresConnection.CreateDataSource(connectionString);
        var waited = 0;

        // Act
        var ex = Assert.Throws<StorageStartException>(
            () => PostgresConnection.Check(dataSource, connectionString, TimeSpan.Zero, new SteppingClock(), (_, _, _) => waited++));

        // Assert
        Assert.That(waited, Is.Zero);
        Assert.That(ex!.Message, Does.Not.Contain("gave up"));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
