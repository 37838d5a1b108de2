using System.Net.Sockets;
using System.Reflection;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Storage;
using Chroma.Server.Tests.Reliability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Chroma.Server.Tests.Storage;

/// <summary>
/// Readiness during a database outage: however often it is probed, the log says so once (no stack trace), then once
/// when the database is back; ASP.NET Core's per-result Error entries are filtered out (probe Q, Q3).
/// </summary>
[TestFixture]
public sealed class RecordStoreHealthCheckTests
{
    private static readonly HealthCheckContext Context = new();

    [Test, CancelAfter(10_000)]
    public async Task CheckHealth_DatabaseRefusesEveryProbe_OneWarningWithoutStackTraceThenOneRecoveryLine(CancellationToken cancellationToken)
    {
        // Arrange: 100 probes at 4 Hz (25 s) refused, then two that succeed.
        var refused = true;
        var store = ReadableStore.Create(() => refused
            ? throw new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException(111))
            : true);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 10, 38, 0, TimeSpan.Zero));
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var check = new RecordStoreHealthCheck(store, time, factory.CreateLogger<RecordStoreHealthCheck>());
        var results = new List<HealthStatus>();

        // Act
        for (var i = 0; i < 100; i++)
        {
            results.Add((await check.CheckHealthAsync(Context, cancellationToken)).Status);
            time.Advance(TimeSpan.FromMilliseconds(250));
        }

        refused = false;
        var back = (await check.CheckHealthAsync(Context, cancellationToken)).Status;
        var again = (await check.CheckHealthAsync(Context, cancellationToken)).Status;

        // Assert
        var entries = logs.Entries.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(results, Is.All.EqualTo(HealthStatus.Unhealthy));
            Assert.That((back, again), Is.EqualTo((HealthStatus.Healthy, HealthStatus.Healthy)));
            Assert.That(entries.Select(e => (e.Level, e.Event.Id)), Is.EqualTo(new[] { (LogLevel.Warning, 20), (LogLevel.Information, 22) }), string.Join("\n", logs.AllText()));
            Assert.That(entries.Select(e => e.Exception), Is.All.Null, "no stack trace for a refused connection");
            Assert.That(entries[0].Message, Does.Contain("readiness").And.Contain("Connection refused"));
            Assert.That(entries[1].Message, Does.Contain("back").And.Contain("100 failures"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task CheckHealth_FailureThatIsNoOutage_LoggedEachTimeWithItsStackTrace(CancellationToken cancellationToken)
    {
        // Arrange
        var store = ReadableStore.Create(() => throw new InvalidOperationException("a bug"));
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        var check = new RecordStoreHealthCheck(store, new FakeTimeProvider(), factory.CreateLogger<RecordStoreHealthCheck>());

        // Act
        var first = await check.CheckHealthAsync(Context, cancellationToken);
        await check.CheckHealthAsync(Context, cancellationToken);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(HealthStatus.Unhealthy));
            Assert.That(logs.Entries.Select(e => e.Level), Is.EqualTo(new[] { LogLevel.Error, LogLevel.Error }));
            Assert.That(logs.Entries.Select(e => e.Exception?.Message), Is.All.EqualTo("a bug"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task HealthCheckService_UnhealthyResults_NotLoggedByTheServiceWhenFiltered(CancellationToken cancellationToken)
    {
        // Arrange: the server's logging filter, and a check that is always unhealthy.
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(b =>
        {
            b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
            HealthCheckLogFilter.AddTo(b);
        });
        services.AddHealthChecks().AddCheck("record-store", () => HealthCheckResult.Unhealthy("the database is unavailable"));
        await using var provider = services.BuildServiceProvider();
        var health = provider.GetRequiredService<HealthCheckService>();

        // Act
        for (var i = 0; i < 10; i++)
        {
            Assert.That((await health.CheckHealthAsync(cancellationToken)).Status, Is.EqualTo(HealthStatus.Unhealthy));
        }

        // Assert
        Assert.That(logs.Entries.Where(e => e.Category == HealthCheckLogFilter.Category), Is.Empty);
    }

    /// <summary>A store whose <see cref="IRecordStore.IsReadable"/> answers as told; the health check calls nothing else.</summary>
    public class ReadableStore : DispatchProxy
    {
        private Func<bool> _isReadable = () => true;

        internal static IRecordStore Create(Func<bool> isReadable)
        {
            var proxy = Create<IRecordStore, ReadableStore>();
            ((ReadableStore)(object)proxy)._isReadable = isReadable;
            return proxy;
        }

        /// <inheritdoc />
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IRecordStore.IsReadable) ? _isReadable() : throw new NotSupportedException(targetMethod?.Name);
    }
}
