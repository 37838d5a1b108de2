using Chroma.DependencyInjection;
using Chroma.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;

namespace Chroma.Tests.DependencyInjection;

[TestFixture]
public sealed class AddChromaTests
{
    [Test, CancelAfter(10_000)]
    public async Task AddChroma_FromConfiguration_BindsOptionsAndRegistersOneClient(CancellationToken cancellationToken)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chroma:Endpoint"] = "http://127.0.0.1:6123",
            ["Chroma:QueueCapacity"] = "321",
            ["Chroma:FlushInterval"] = "00:00:00.250",
            ["Chroma:Retry:MaxDelay"] = "00:00:07",
        }).Build();
        var services = new ServiceCollection();
        services.AddChroma(configuration.GetSection("Chroma"));
        await using var provider = services.BuildServiceProvider();

        var client = provider.GetRequiredService<ChromaClient>();
        var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<ChromaClientOptions>>().Value;

        Assert.Multiple(() =>
        {
            Assert.That(client.Endpoint, Is.EqualTo(new Uri("http://127.0.0.1:6123")));
            Assert.That(provider.GetRequiredService<ChromaClient>(), Is.SameAs(client), "a singleton");
            Assert.That(options.QueueCapacity, Is.EqualTo(321));
            Assert.That(options.FlushInterval, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
            Assert.That(options.Retry.MaxDelay, Is.EqualTo(TimeSpan.FromSeconds(7)));
        });
    }

    [Test, CancelAfter(10_000)]
    public void AddChroma_ProviderDisposedSynchronously_DrainsTheClientWithoutThrowing()
    {
        // Arrange: a using block around BuildServiceProvider(), as console apps and tests write it; nobody listens on
        // port 1, so the drain ends at its timeout and counts what it could not deliver.
        var services = new ServiceCollection();
        services.AddChroma(o =>
        {
            o.Endpoint = new Uri("http://127.0.0.1:1");
            o.DrainTimeout = TimeSpan.FromMilliseconds(200);
        });
        var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<ChromaClient>();
        var set = client.GetEmbeddingSet(new EmbeddingSetDescriptor("unit", "1", "fc", 4));
        for (var i = 0; i < 5; i++)
        {
            set.LogTraining([i, 0, 0, 0], "0");
        }

        // Act: before, ServiceProvider.Dispose() threw InvalidOperationException (the client was only IAsyncDisposable).
        Assert.That(provider.Dispose, Throws.Nothing);

        // Assert: drained as DisposeAsync drains: every record accounted for, none left queued.
        var statistics = client.Statistics;
        Assert.Multiple(() =>
        {
            Assert.That(statistics.Queued, Is.Zero);
            Assert.That(statistics.Exported + statistics.Failed, Is.EqualTo(5));
            Assert.That(set.LogTraining([9, 0, 0, 0], "0"), Is.False, "a disposed client takes no more records");
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task AddChroma_QueryClientRequested_IsTheRegisteredClient(CancellationToken cancellationToken)
    {
        // Arrange
        var services = new ServiceCollection();
        services.AddChroma(o => o.Endpoint = new Uri("http://127.0.0.1:6123"));
        var provider = services.BuildServiceProvider();

        // Act
        var queries = provider.GetRequiredService<IChromaQueryClient>();
        var client = provider.GetRequiredService<ChromaClient>();

        // Assert
        Assert.That(queries, Is.SameAs(client), "one singleton, not a second client with its own queue and connection");
        await provider.DisposeAsync().AsTask().WaitAsync(cancellationToken);
    }

    [Test, CancelAfter(10_000)]
    public async Task AddChroma_QueryClientRegisteredBefore_KeepsTheFake(CancellationToken cancellationToken)
    {
        // Arrange
        var fake = new Moq.Mock<IChromaQueryClient>().Object;
        var services = new ServiceCollection();
        services.AddSingleton(fake);
        services.AddChroma(o => o.Endpoint = new Uri("http://127.0.0.1:6123"));
        await using var provider = services.BuildServiceProvider();

        // Act
        var queries = provider.GetRequiredService<IChromaQueryClient>();

        // Assert
        Assert.That(queries, Is.SameAs(fake));
        await Task.CompletedTask.WaitAsync(cancellationToken);
    }

    [Test]
    public void AddChroma_InvalidOptions_ResolvingNamesTheSetting()
    {
        var services = new ServiceCollection();
        services.AddChroma(o => o.QueueCapacity = 0);
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => provider.GetRequiredService<ChromaClient>());

        Assert.That(ex!.Message, Does.Contain("QueueCapacity"));
    }

    [Test]
    public void AddChroma_InvalidOptions_TheHostsStartupValidationNamesTheSetting()
    {
        var services = new ServiceCollection();
        services.AddChroma(o => o.Endpoint = new Uri("ftp://example.com"));
        using var provider = services.BuildServiceProvider();

        // What a generic host runs in StartAsync, before any service is resolved.
        var validator = provider.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>();

        Assert.That(validator.Validate, Throws.Exception.With.Message.Contain("Endpoint"));
    }

    [TestCase("http://10.0.0.1:50051/chroma")]
    [TestCase("http://10.0.0.1:50051/?tls=1")]
    public void ClientOptions_EndpointWithAPathOrQuery_RefusedNamingWhatWouldBeIgnored(string endpoint)
    {
        // gRPC calls go to the root: a path was dropped without a word (outside-in probe G, F3).
        var ex = Assert.Throws<ArgumentException>(() => new ChromaClientOptions { Endpoint = new Uri(endpoint) }.Validate());
        var listed = Assert.Throws<ArgumentException>(() => new ChromaClientOptions { Endpoints = { new Uri("http://10.0.0.2:50051"), new Uri(endpoint) } }.Validate());

        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo(nameof(ChromaClientOptions.Endpoint)));
            Assert.That(ex.Message, Does.Contain("must name the server only").And.Contain("would be ignored"));
            Assert.That(listed!.ParamName, Is.EqualTo("Endpoints[1]"));
        });
        Assert.That(() => new ChromaClientOptions { Endpoint = new Uri("http://10.0.0.1:50051/") }.Validate(), Throws.Nothing);
    }

    [Test, CancelAfter(10_000)]
    public async Task AddChroma_FromConfigurationWithAMistypedKey_WarnsNamingTheKeyAndTheSettingServerKeysLeftAlone(CancellationToken cancellationToken)
    {
        // Arrange: a typo of Endpoint, a near-miss of QueueCapacity, and the server's own keys in the same section.
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Chroma:Endpiont"] = "http://10.0.0.9:6123",
            ["Chroma:QueueCapacty"] = "5",
            ["Chroma:ApiKey"] = "0123456789abcdef0123456789abcdef",
            ["Chroma:Port"] = "50051",
            ["Chroma:DataDirectory"] = "/var/lib/chroma",
            ["Chroma:Storage:Provider"] = "Sqlite",
            ["Chroma:Web:Port"] = "50052",
        }).Build();
        var logs = new RecordingLoggerProvider();
        var services = new ServiceCollection();
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(logs);
        services.AddChroma(configuration.GetSection("Chroma"));
        await using var provider = services.BuildServiceProvider();

        // Act
        var client = provider.GetRequiredService<ChromaClient>();

        // Assert
        var warnings = logs.Entries.Where(e => e.Id.Id == 16).Select(e => e.Message).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(client.Endpoint, Is.EqualTo(new Uri("http://localhost:50051")), "the binder ignored the mistyped key");
            Assert.That(warnings, Has.Count.EqualTo(2));
            Assert.That(warnings, Has.Some.Contain("'Chroma:Endpiont' is not a client setting and is ignored; did you mean 'Endpoint'?"));
            Assert.That(warnings, Has.Some.Contain("'Chroma:QueueCapacty'").And.Contain("'QueueCapacity'"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task HealthCheck_ServerUnreachableTooLong_UnhealthyAndDegradedBefore(CancellationToken cancellationToken)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var sessions = new Support.ScriptedIngestSessions();
        sessions.FailNextSessions(int.MaxValue);
        await using var client = Support.TestClients.Create(sessions);
        var check = new ChromaHealthCheck(client, TimeSpan.FromMinutes(1), time);
        var context = new HealthCheckContext();

        var before = await check.CheckHealthAsync(context, cancellationToken);
        client.Set().LogTraining([1, 2, 3, 4], "0");
        while (client.ConsecutiveIngestFailures < 2)
        {
            await Task.Delay(1, cancellationToken);
        }

        var retrying = await check.CheckHealthAsync(context, cancellationToken);
        time.Advance(TimeSpan.FromMinutes(2));
        var later = await check.CheckHealthAsync(context, cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(before.Status, Is.EqualTo(HealthStatus.Healthy));
            Assert.That(retrying.Status, Is.EqualTo(HealthStatus.Degraded), "failing, but the client is seconds old: retrying, not down");
            Assert.That(later.Status, Is.EqualTo(HealthStatus.Unhealthy), "never acknowledged, two minutes after it started");
            Assert.That(later.Description, Does.Contain("since the client started"));
            Assert.That(later.Data["queued"], Is.EqualTo(1L));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task HealthCheck_ServerRefusesTheKey_UnhealthyAtOnceNamingWhyThenHealthyAfterAnAck(CancellationToken cancellationToken)
    {
        // Before: "Degraded ... retrying; records wait in the queue" for two minutes, while every record was counted failed.
        var sessions = new Support.ScriptedIngestSessions { FailureStatus = Grpc.Core.StatusCode.Unauthenticated, FailureDetail = "invalid API key" };
        sessions.FailNextSessions(1);
        await using var client = Support.TestClients.Create(sessions);
        var check = new ChromaHealthCheck(client, TimeSpan.FromMinutes(2), new FakeTimeProvider(DateTimeOffset.UtcNow));

        client.Set().LogTraining([1, 2, 3, 4], "0");
        while (client.Statistics.Failed < 1)
        {
            await Task.Delay(1, cancellationToken);
        }

        var refused = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);
        client.Set().LogTraining([1, 2, 3, 4], "0"); // the next stream is accepted (the key was fixed)
        while (client.Statistics.Exported < 1)
        {
            await Task.Delay(1, cancellationToken);
        }

        var accepted = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(refused.Status, Is.EqualTo(HealthStatus.Unhealthy), "at once, not after two minutes");
            Assert.That(refused.Description, Does.Contain("Unauthenticated").And.Contain("invalid API key").And.Contain("retrying cannot fix"));
            Assert.That(refused.Data["refusal"], Does.Contain("Unauthenticated"));
            Assert.That(accepted.Status, Is.EqualTo(HealthStatus.Healthy), accepted.Description);
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task HealthCheck_BeforeTheFirstAcknowledgement_HealthyWithoutClaimingDelivery(CancellationToken cancellationToken)
    {
        // Probe L, L3: "Chroma is delivering to ..." was said before anything had been sent, also to a dead endpoint.
        var sessions = new Support.ScriptedIngestSessions { WriteGate = new TaskCompletionSource() }; // nothing acknowledged until opened
        await using var client = Support.TestClients.Create(sessions);
        var check = new ChromaHealthCheck(client, TimeSpan.FromMinutes(1));

        var idle = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);
        client.Set().LogTraining([1, 2, 3, 4], "0");
        var waiting = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);
        sessions.WriteGate.SetResult();
        while (client.Statistics.Exported < 1)
        {
            await Task.Delay(1, cancellationToken);
        }

        var delivered = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(idle.Status, Is.EqualTo(HealthStatus.Healthy));
            Assert.That(idle.Description, Does.Contain("has sent nothing").And.Not.Contain("delivering"));
            Assert.That(waiting.Status, Is.EqualTo(HealthStatus.Healthy), "nothing has failed");
            Assert.That(waiting.Description, Does.Contain("not had a batch acknowledged").And.Not.Contain("delivering"));
            Assert.That(delivered.Description, Does.Contain("is delivering to"));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task HealthCheck_RecordsDropped_DegradedOnceThenHealthy(CancellationToken cancellationToken)
    {
        await using var client = Support.TestClients.Create(new Support.ScriptedIngestSessions());
        var check = new ChromaHealthCheck(client, TimeSpan.FromMinutes(1));
        client.Set().LogTraining([1, 2, 3], "0"); // wrong dimension: dropped

        var first = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);
        var second = await check.CheckHealthAsync(new HealthCheckContext(), cancellationToken);

        Assert.Multiple(() =>
        {
            Assert.That(first.Status, Is.EqualTo(HealthStatus.Degraded));
            Assert.That(second.Status, Is.EqualTo(HealthStatus.Healthy));
        });
    }

    [Test, CancelAfter(10_000)]
    public async Task AddChromaHealthCheck_AfterAddChroma_ChecksTheRegisteredClientUnderItsName(CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(Microsoft.Extensions.Logging.Abstractions.NullLogger<>));
        services.AddChroma(o => o.Endpoint = new Uri("http://127.0.0.1:6124"));
        services.AddHealthChecks().AddChromaHealthCheck(tags: ["ready"]);
        await using var provider = services.BuildServiceProvider();

        var report = await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(cancellationToken);

        var entry = report.Entries[ChromaHealthChecksBuilderExtensions.DefaultName];
        Assert.Multiple(() =>
        {
            Assert.That(entry.Status, Is.EqualTo(HealthStatus.Healthy), entry.Description);
            Assert.That(entry.Tags, Is.EquivalentTo(new[] { "ready" }));
            Assert.That(entry.Data["endpoint"], Is.EqualTo("http://127.0.0.1:6124/"));
        });
    }

    [Test]
    public void AddChromaHealthCheck_NonPositiveThreshold_ThrowsNamingIt()
    {
        var builder = new ServiceCollection().AddHealthChecks();

        Assert.That(() => builder.AddChromaHealthCheck(unhealthyAfter: TimeSpan.Zero), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("unhealthyAfter"));
    }
}
