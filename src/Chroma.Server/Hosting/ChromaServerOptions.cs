using Chroma.Server.Indexing;
using Chroma.Server.Recommendations;
using Chroma.Server.Retention;
using Chroma.Server.Security;
using Chroma.Server.Services;
using Chroma.Server.Storage;
using Chroma.Server.Validation;
using Chroma.Server.Web;

namespace Chroma.Server.Hosting;

/// <summary>
/// Settings of a Chroma server: where it listens, where it keeps its data, who may call it, how long a shutdown may
/// take, and one property per feature section (<see cref="Indexing"/>, <see cref="Scoring"/>, ...). The standalone
/// server binds each from its own configuration section (<c>Chroma</c>, <c>Chroma:Indexing</c>, ...); embedded, pass
/// them to <see cref="ChromaServer.StartAsync"/>, e.g. <c>new ChromaServerOptions { Indexing = { SaveInterval = ... } }</c>.
/// Every section is validated once when the server starts.
/// </summary>
public sealed class ChromaServerOptions
{
    /// <summary>The configuration section the standalone server binds these options from.</summary>
    public const string SectionName = "Chroma";

    /// <summary>
    /// Gets or sets the host to listen on: <c>"localhost"</c>, <c>"*"</c> (every interface) or an
    /// IP address literal. The default value is <c>"localhost"</c>.
    /// </summary>
    public string Host { get; set; } = "localhost";

    /// <summary>
    /// Gets or sets the TCP port (0..65535). 0 picks a free port; <see cref="ChromaServer.Port"/>
    /// then says which. The default value is 50051.
    /// </summary>
    public int Port { get; set; } = 50051;

    /// <summary>
    /// Gets or sets the folder holding the SQLite database (<c>chroma.db</c>) and the saved indexes; created if missing.
    /// The default value is <c>"chroma-data"</c> (relative to the working directory).
    /// </summary>
    public string DataDirectory { get; set; } = "chroma-data";

    /// <summary>
    /// Gets or sets the API key every call must send in the <c>x-api-key</c> header (health
    /// checks excepted). The default value is <see langword="null"/>: no authentication.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// Gets or sets a key accepted besides <see cref="ApiKey"/> while clients move to a new one: start the server with
    /// the new key as <see cref="ApiKey"/> and the old one here, move the clients, then remove it. Studio (its sign-in and
    /// sessions) and what is derived from the key follow <see cref="ApiKey"/> alone. The default value is <see langword="null"/>.
    /// </summary>
    public string? PreviousApiKey { get; set; }

    /// <summary>
    /// Gets or sets how long a shutdown may take (1 second to 5 minutes): open streams are told to re-send and in-flight
    /// commits finish within it; what is still running after it is abandoned (nothing acknowledged is lost). The default value is 5 seconds.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how large a request may be (section <c>Chroma:Limits</c>). The default value is a
    /// <see cref="LimitsOptions"/> with its defaults.
    /// </summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>
    /// Gets or sets how ingest streams are taken: pending records, retry-after, idle timeout (section
    /// <c>Chroma:Ingest</c>). The default value is an <see cref="IngestOptions"/> with its defaults.
    /// </summary>
    public IngestOptions Ingest { get; set; } = new();

    /// <summary>
    /// Gets or sets how the nearest-neighbour indexes are built, tailed and saved (section <c>Chroma:Indexing</c>).
    /// The default value is an <see cref="IndexingOptions"/> with its defaults.
    /// </summary>
    public IndexingOptions Indexing { get; set; } = new();

    /// <summary>
    /// Gets or sets when sets are scored, on how many threads, and how replicas sharing a PostgreSQL database divide the
    /// scoring (section <c>Chroma:Scoring</c>). The default value is a <see cref="ScoringOptions"/> with its defaults.
    /// </summary>
    public ScoringOptions Scoring { get; set; } = new();

    /// <summary>
    /// Gets or sets the recommendation engine's settings (section <c>Chroma:Recommendations</c>). The default value is a
    /// <see cref="RecommendationOptions"/> with its defaults.
    /// </summary>
    public RecommendationOptions Recommendations { get; set; } = new();

    /// <summary>
    /// Gets or sets how drift is measured (section <c>Chroma:Drift</c>). The default value is a
    /// <see cref="DriftOptions"/> with its defaults.
    /// </summary>
    public DriftOptions Drift { get; set; } = new();

    /// <summary>
    /// Gets or sets which database holds the records and how it is checked after a crash (section
    /// <c>Chroma:Storage</c>). The default value is SQLite in <see cref="DataDirectory"/>, quick integrity check.
    /// </summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>
    /// Gets or sets which records are deleted by age (section <c>Chroma:Retention</c>). The default value is a
    /// <see cref="RetentionOptions"/> without rules: nothing is deleted by age.
    /// </summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>
    /// Gets or sets the settings of Chroma Studio, the web app on its own HTTP/1.1 port (section <c>Chroma:Web</c>).
    /// The default value is a <see cref="WebOptions"/> with its defaults: on, port 50052.
    /// </summary>
    public WebOptions Web { get; set; } = new();

    /// <summary>
    /// Gets or sets the TLS certificate (section <c>Chroma:Certificate</c>). The default value is a
    /// <see cref="CertificateOptions"/> without a certificate: plain-text HTTP/2.
    /// </summary>
    public CertificateOptions Certificate { get; set; } = new();

    /// <summary>Copies these options (every section too) so a running server is not affected by later changes.</summary>
    internal ChromaServerOptions Clone()
    {
        var copy = (ChromaServerOptions)MemberwiseClone();
        copy.Limits = Limits?.Clone()!;
        copy.Ingest = Ingest?.Clone()!;
        copy.Indexing = Indexing?.Clone()!;
        copy.Scoring = Scoring?.Clone()!;
        copy.Recommendations = Recommendations?.Clone()!;
        copy.Drift = Drift?.Clone()!;
        copy.Storage = Storage?.Clone()!;
        copy.Retention = Retention?.Clone()!;
        copy.Web = Web?.Clone()!;
        copy.Certificate = Certificate?.Clone()!;
        return copy;
    }
}
