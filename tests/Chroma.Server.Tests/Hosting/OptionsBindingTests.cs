using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using Chroma.Server.Retention;
using Chroma.Server.Security;
using Chroma.Server.Services;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Validation;
using Chroma.Server.Web;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Tests.Hosting;

/// <summary>
/// Every options type bound from its own section of the configuration (<c>Chroma:Indexing</c>, ...) in a real host, as
/// the standalone server binds it, or taken from the embedded <see cref="ChromaServerOptions"/>; and a bad value in any
/// section stopping the start with one line naming the setting's full path, before anything is opened.
/// </summary>
[TestFixture]
public sealed class OptionsBindingTests
{
    private TempDirectory _directory = null!;

    [SetUp]
    public void CreateDirectory() => _directory = new TempDirectory();

    [TearDown]
    public void DeleteDirectory() => _directory.Dispose();

    [Test, CancelAfter(60_000)]
    public async Task BuildChromaServer_SettingInEverySubSection_EachFeatureGetsItsOwnBoundOptions()
    {
        // Arrange: command-line settings, as `chroma-server --Chroma:Indexing:SaveInterval=...` gives them.
        var app = Build(
            "--Chroma:Limits:MaxPageSize=77",
            "--Chroma:Limits:MaxMessageBytes=65536",
            "--Chroma:Ingest:MaxPendingRecords=123",
            "--Chroma:Ingest:StreamIdleTimeout=00:00:09",
            "--Chroma:Indexing:SaveInterval=00:00:07",
            "--Chroma:Indexing:ExactSearchThreshold=42",
            "--Chroma:Scoring:Debounce=00:00:00.250",
            "--Chroma:Scoring:Threads=2",
            "--Chroma:Recommendations:NeighborCount=7",
            "--Chroma:Drift:Window=99",
            "--Chroma:Storage:IntegrityCheck=Full",
            "--Chroma:Storage:StartupTimeout=00:01:30",
            "--Chroma:Retention:Interval=00:30:00",
            "--Chroma:Retention:Rules:0:Set=*",
            "--Chroma:Retention:Rules:0:Dataset=production",
            "--Chroma:Retention:Rules:0:MaxAge=30.00:00:00",
            "--Chroma:Web:Enabled=false",
            "--Chroma:Web:UndoWindow=00:00:20",
            "--Chroma:ShutdownTimeout=00:00:03");
        await using var _ = app;

        // Act
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var services = app.Services;

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(services.GetRequiredService<LimitsOptions>().MaxPageSize, Is.EqualTo(77));
            Assert.That(services.GetRequiredService<IOptions<GrpcServiceOptions>>().Value.MaxReceiveMessageSize, Is.EqualTo(65536), "Chroma:Limits:MaxMessageBytes reaches gRPC");
            Assert.That(services.GetRequiredService<IngestOptions>().MaxPendingRecords, Is.EqualTo(123));
            Assert.That(services.GetRequiredService<IngestOptions>().StreamIdleTimeout, Is.EqualTo(TimeSpan.FromSeconds(9)));
            Assert.That(services.GetRequiredService<IndexingOptions>().SaveInterval, Is.EqualTo(TimeSpan.FromSeconds(7)));
            Assert.That(services.GetRequiredService<IndexingOptions>().ExactSearchThreshold, Is.EqualTo(42));
            Assert.That(services.GetRequiredService<ScoringOptions>().Debounce, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
            Assert.That(services.GetRequiredService<Chroma.Server.Background.BackgroundWorkLimiter>().DegreeOfParallelism, Is.EqualTo(2), "Chroma:Scoring:Threads");
            Assert.That(services.GetRequiredService<RecommendationOptions>().NeighborCount, Is.EqualTo(7));
            Assert.That(services.GetRequiredService<DriftOptions>().Window, Is.EqualTo(99));
            Assert.That(services.GetRequiredService<StorageOptions>().IntegrityCheck, Is.EqualTo(IntegrityCheckMode.Full));
            Assert.That(services.GetRequiredService<StorageOptions>().StartupTimeout, Is.EqualTo(TimeSpan.FromSeconds(90)));
            Assert.That(services.GetRequiredService<RetentionOptions>().Interval, Is.EqualTo(TimeSpan.FromMinutes(30)));
            Assert.That(services.GetRequiredService<RetentionOptions>().Rules.Single().MaxAge, Is.EqualTo(TimeSpan.FromDays(30)));
            Assert.That(services.GetRequiredService<WebOptions>().UndoWindow, Is.EqualTo(TimeSpan.FromSeconds(20)));
            Assert.That(services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)), "Chroma:ShutdownTimeout reaches the host");
            Assert.That(services.GetRequiredService<ChromaServerOptions>().DataDirectory, Is.EqualTo(_directory.Path));
        });
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    [TestCase("--Chroma:Indexing:SaveInterval=00:00:00.010", "Chroma:Indexing:SaveInterval (Chroma__Indexing__SaveInterval) must be between 1 second and 1 day (got 00:00:00.0100000)")]
    [TestCase("--Chroma:Limits:MaxPageSize=0", "Chroma:Limits:MaxPageSize (Chroma__Limits__MaxPageSize) must be between 1 and 100000 (got 0)")]
    [TestCase("--Chroma:Ingest:RetryAfter=00:10:00", "Chroma:Ingest:RetryAfter (Chroma__Ingest__RetryAfter) must be between 1 ms and 1 minute")]
    [TestCase("--Chroma:Scoring:MaxDelay=00:00:00.100", "Chroma:Scoring:MaxDelay (Chroma__Scoring__MaxDelay) must be between Chroma:Scoring:Debounce")]
    [TestCase("--Chroma:Recommendations:DiversityRelevance=2", "Chroma:Recommendations:DiversityRelevance (Chroma__Recommendations__DiversityRelevance) must be between 0 and 1 (got 2)")]
    [TestCase("--Chroma:Drift:Window=1", "Chroma:Drift:Window (Chroma__Drift__Window) must be between 2 and 100000 (got 1)")]
    [TestCase("--Chroma:Storage:Provider=Postgres", "Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString) must be set when Chroma:Storage:Provider is Postgres")]
    [TestCase("--Chroma:Storage:ConnectionString=Host=db", "Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString) is set, but Chroma:Storage:Provider (Chroma__Storage__Provider) is Sqlite")]
    [TestCase("--Chroma:Retention:Rules:0:Set=*", "Chroma:Retention:Rules:0:Dataset (Chroma__Retention__Rules__0__Dataset) must name a dataset")]
    [TestCase("--Chroma:Web:UndoWindow=00:00:00", "Chroma:Web:UndoWindow (Chroma__Web__UndoWindow) must be between 1 second and 10 minutes")]
    [TestCase("--Chroma:ShutdownTimeout=00:10:00", "Chroma:ShutdownTimeout (Chroma__ShutdownTimeout) must be between 1 second and 5 minutes")]
    [TestCase("--Chroma:Prot=1", "Chroma:Prot (Chroma__Prot) is not a setting the server reads; did you mean Chroma:Port (Chroma__Port)?")]
    [TestCase("--Chroma:Web:Prot=1", "Chroma:Web:Prot (Chroma__Web__Prot) is not a setting the server reads; did you mean Chroma:Web:Port (Chroma__Web__Port)?")]
    [TestCase("--Chroma:Storage:ConectionString=x", "Chroma:Storage:ConectionString (Chroma__Storage__ConectionString) is not a setting the server reads; did you mean Chroma:Storage:ConnectionString")]
    [TestCase("--Chroma:Retention:Rules:0:MaxAg=1.00:00:00", "Chroma:Retention:Rules:0:MaxAg (Chroma__Retention__Rules__0__MaxAg) is not a setting the server reads; did you mean Chroma:Retention:Rules:0:MaxAge")]
    [TestCase("--Chroma:Port:Extra=1", "Chroma:Port:Extra (Chroma__Port__Extra) is not a setting the server reads")]
    [TestCase("--Chroma:Telemetry=on", "Chroma:Telemetry (Chroma__Telemetry) is not a setting the server reads")]
    public void BuildChromaServer_BadSettingInConfiguration_SettingFailureNamingItsPathAndNothingOpened(string argument, string message)
    {
        // Act
        var failure = BuildFailure(argument);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(failure.Failure, Is.EqualTo(ChromaServerStartFailure.Setting));
            Assert.That(failure.ExitCode, Is.EqualTo(5));
            Assert.That(failure.Message, Does.StartWith(message));
            Assert.That(failure.Message, Does.Not.Contain("\n"));
            Assert.That(File.Exists(Path.Combine(_directory.Path, SqliteDatabase.FileName)), Is.False, "the store was not opened");
        });
    }

    [TestCase("30days", "Chroma:Retention:Rules:0:MaxAge (Chroma__Retention__Rules__0__MaxAge): '30days' is not valid; it takes a time span")]
    [TestCase("abc", "Chroma:Retention:Rules:0:MaxAge (Chroma__Retention__Rules__0__MaxAge): 'abc' is not valid; it takes a time span")]
    [TestCase("", "Chroma:Retention:Rules:0:MaxAge (Chroma__Retention__Rules__0__MaxAge): '' is not valid; it takes a time span")]
    public void BuildChromaServer_RetentionRuleWithAnAgeTheBinderCannotRead_SettingFailureNamingItNotARuleLeftOut(string maxAge, string message)
    {
        // Probe O: the binder left such a rule out of the list without a word, and the server started without it.
        var failure = BuildFailure(
            "--Chroma:Retention:Rules:0:Set=*",
            "--Chroma:Retention:Rules:0:Dataset=production",
            "--Chroma:Retention:Rules:0:MaxAge=" + maxAge,
            "--Chroma:Retention:Rules:1:Set=*",
            "--Chroma:Retention:Rules:1:Dataset=training",
            "--Chroma:Retention:Rules:1:MaxAge=36500.00:00:00");

        Assert.Multiple(() =>
        {
            Assert.That(failure.Failure, Is.EqualTo(ChromaServerStartFailure.Setting));
            Assert.That(failure.ExitCode, Is.EqualTo(5));
            Assert.That(failure.Message, Does.Contain(message));
            Assert.That(failure.Message, Does.Not.Contain("\n"));
        });
    }

    [Test]
    public void BuildChromaServer_BadSettingsInTwoSections_OneLineNamingBoth()
    {
        var failure = BuildFailure("--Chroma:Indexing:SaveInterval=00:00:00.010", "--Chroma:Drift:Window=1");

        Assert.Multiple(() =>
        {
            Assert.That(failure.Failure, Is.EqualTo(ChromaServerStartFailure.Setting));
            Assert.That(failure.Message, Does.Contain("Chroma:Indexing:SaveInterval").And.Contain("Chroma:Drift:Window"));
            Assert.That(failure.Message, Does.Not.Contain("\n"));
        });
    }

    [Test]
    public void BuildChromaServer_SettingUnderItsOldFlatName_SettingFailureNamingTheNewPath()
    {
        var failure = BuildFailure("--Chroma:IndexSaveInterval=00:05:00");

        Assert.Multiple(() =>
        {
            Assert.That(failure.Failure, Is.EqualTo(ChromaServerStartFailure.Setting));
            Assert.That(failure.Message, Is.EqualTo("Chroma:IndexSaveInterval (Chroma__IndexSaveInterval) is no longer read: set Chroma:Indexing:SaveInterval (Chroma__Indexing__SaveInterval) instead"));
        });
    }

    [Test]
    public void BuildChromaServer_MissingCertificateFileInConfiguration_CertificateFailureNamingTheSetting()
    {
        var missing = Path.Combine(_directory.Path, "missing.pfx");

        var failure = BuildFailure("--Chroma:Certificate:Path=" + missing);

        Assert.Multiple(() =>
        {
            Assert.That(failure.Failure, Is.EqualTo(ChromaServerStartFailure.Certificate));
            Assert.That(failure.ExitCode, Is.EqualTo(6));
            Assert.That(failure.Message, Does.StartWith("Chroma:Certificate:Path (Chroma__Certificate__Path) names no file").And.Contain(missing));
        });
    }

    [Test, CancelAfter(60_000)]
    public async Task StartAsync_EmbeddedSections_EachFeatureGetsTheCallersValues()
    {
        // Arrange
        var options = new ChromaServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            DataDirectory = _directory.Path,
            Indexing = { SaveInterval = TimeSpan.FromSeconds(7) },
            Ingest = { MaxPendingRecords = 321 },
            Recommendations = { CandidatePoolSize = 50 },
            Drift = { Window = 64 },
            Web = { Enabled = false },
        };

        // Act
        await using var server = await ChromaServer.StartAsync(options).WaitAsync(TimeSpan.FromSeconds(30));
        options.Indexing.SaveInterval = TimeSpan.FromHours(1);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(server.Services.GetRequiredService<IndexingOptions>().SaveInterval, Is.EqualTo(TimeSpan.FromSeconds(7)), "a copy: later changes do not reach the running server");
            Assert.That(server.Services.GetRequiredService<IOptions<IngestOptions>>().Value.MaxPendingRecords, Is.EqualTo(321));
            Assert.That(server.Services.GetRequiredService<RecommendationOptions>().CandidatePoolSize, Is.EqualTo(50));
            Assert.That(server.Services.GetRequiredService<DriftOptions>().Window, Is.EqualTo(64));
            Assert.That(server.WebEndpoint, Is.Null);
        });
    }

    [Test]
    public void StartAsync_EmbeddedBadSection_StartExceptionNamingTheSetting()
    {
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = _directory.Path, Indexing = { SaveInterval = TimeSpan.FromMilliseconds(10) } };

        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() => ChromaServer.StartAsync(options));

        Assert.Multiple(() =>
        {
            Assert.That(ex!.Failure, Is.EqualTo(ChromaServerStartFailure.Setting));
            Assert.That(ex.Message, Is.EqualTo("Chroma:Indexing:SaveInterval (Chroma__Indexing__SaveInterval) must be between 1 second and 1 day (got 00:00:00.0100000)"));
            Assert.That(File.Exists(Path.Combine(_directory.Path, SqliteDatabase.FileName)), Is.False, "the store was not opened");
        });
    }

    [Test]
    public void StartAsync_EmbeddedSectionSetToNull_StartExceptionNamingTheSection()
    {
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = _directory.Path, Drift = null! };

        var ex = Assert.ThrowsAsync<ChromaServerStartException>(() => ChromaServer.StartAsync(options));

        Assert.That(ex!.Message, Is.EqualTo("Chroma:Drift must be set"));
    }

    // The standalone server's way: configuration (here the command line) bound per section by the host.
    private WebApplication Build(params string[] arguments)
    {
        string[] args = ["--Chroma:Host=127.0.0.1", "--Chroma:Port=0", "--Chroma:DataDirectory=" + _directory.Path, .. arguments];
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = args });
        builder.Configuration.AddCommandLine(args);
        builder.WebHost.UseKestrelCore();
        var section = builder.Configuration.GetSection(ChromaServerOptions.SectionName);
        return builder.BuildChromaServer(section.Get<ChromaServerOptions>()!, section);
    }

    private ChromaServerStartException BuildFailure(params string[] arguments)
    {
        var options = new ChromaServerOptions { DataDirectory = _directory.Path };
        try
        {
            using var app = (IDisposable)Build(arguments);
        }
        catch (Exception ex) when (StartFailureClassifier.Classify(ex, options) is { } failure)
        {
            return failure;
        }

        Assert.Fail("the server was built although a setting is bad");
        throw new InvalidOperationException("unreachable");
    }
}
