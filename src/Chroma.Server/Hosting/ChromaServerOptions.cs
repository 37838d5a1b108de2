using Chroma.Server.Recommendations;
using Chroma.Server.Retention;
using Chroma.Server.Storage;
using Chroma.Server.Web;

namespace Chroma.Server.Hosting;

/// <summary>
/// Settings of a Chroma server: where it listens, where it keeps its data, who may call it and
/// how large a request may be. Bound from the <c>"Chroma"</c> configuration section when the
/// server runs standalone, or passed to <see cref="ChromaServer.StartAsync"/> when embedded.
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
    /// Gets or sets the folder holding the SQLite database (<c>chroma.db</c>); created if missing.
    /// The default value is <c>"chroma-data"</c> (relative to the working directory).
    /// </summary>
    public string DataDirectory { get; set; } = "chroma-data";

    /// <summary>
    /// Gets or sets the API key every call must send in the <c>x-api-key</c> header (health
    /// checks excepted). The default value is <see langword="null"/>: no authentication.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the most records one ingest batch may hold. The default value is 10 000.</summary>
    public int MaxBatchRecords { get; set; } = 10_000;

    /// <summary>Gets or sets the largest embedding dimension a set may declare. The default value is 16 384.</summary>
    public int MaxDimension { get; set; } = 16_384;

    /// <summary>
    /// Gets or sets the largest gRPC message the server accepts, in bytes.
    /// The default value is 67 108 864 (64 MiB).
    /// </summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Gets or sets the most metadata entries one record (or one tag request) may carry. The default value is 32.</summary>
    public int MaxMetadataEntries { get; set; } = 32;

    /// <summary>Gets or sets the longest metadata key, in characters. The default value is 128.</summary>
    public int MaxMetadataKeyLength { get; set; } = 128;

    /// <summary>
    /// Gets or sets the longest metadata value, label, predicted class or class name, in characters.
    /// The default value is 1024.
    /// </summary>
    public int MaxMetadataValueLength { get; set; } = 1024;

    /// <summary>Gets or sets the longest input URI, in characters. The default value is 2048.</summary>
    public int MaxInputUriLength { get; set; } = 2048;

    /// <summary>
    /// Gets or sets the most records one query page (or one list of ids) may return.
    /// The default value is 1000.
    /// </summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>
    /// Gets or sets the most records that may wait in the ingest queue (received, not yet committed)
    /// across all streams. A batch that would go past it is answered at once with a
    /// <c>ResourceExhausted</c> error carrying <see cref="IngestRetryAfter"/>, and nothing of it is
    /// stored; the client waits and sends it again. A batch is always taken when the queue is
    /// empty, so one larger than this limit still gets through. Memory held by waiting batches is
    /// about this many records x (dimension x 4 bytes + metadata): some 30 MiB at 128-d with the
    /// default. The default value is 50 000.
    /// </summary>
    public int MaxPendingIngestRecords { get; set; } = 50_000;

    /// <summary>
    /// Gets or sets how long a client is asked to wait before re-sending a batch the server shed
    /// because its ingest queue was full (1 ms to 1 minute). The default value is 100 ms.
    /// </summary>
    public TimeSpan IngestRetryAfter { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets or sets the path of the server certificate for TLS: a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>,
    /// with <see cref="CertificatePassword"/> when it has one) or a PEM certificate (<c>.pem</c>/<c>.crt</c>,
    /// with <see cref="CertificateKeyPath"/>). When set the server speaks HTTPS with HTTP/2 only and
    /// <see cref="ChromaServer.Endpoint"/> is <c>https://</c>. The default value is <see langword="null"/>:
    /// plain-text HTTP/2 (h2c), for loopback or a TLS-terminating proxy.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>
    /// Gets or sets the password of the PKCS#12 file (or of an encrypted PEM key). Never logged.
    /// The default value is <see langword="null"/>: no password.
    /// </summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// Gets or sets the PEM private key file that goes with a PEM <see cref="CertificatePath"/>.
    /// The default value is <see langword="null"/>: the key is read from the certificate file itself
    /// (PKCS#12, or a PEM file holding both).
    /// </summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>
    /// Gets or sets how long a set must be quiet (no committed ingest or delete) before the
    /// background worker scores its new records. The default value is 500 milliseconds.
    /// </summary>
    public TimeSpan ScoringDebounce { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets the longest a set waits for a scoring pass after its first unscored change,
    /// so a steady stream that is never quiet still gets fresh scores; at least
    /// <see cref="ScoringDebounce"/>. The default value is 5 seconds.
    /// </summary>
    public TimeSpan ScoringMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how many of the most recent production records each scoring pass compares
    /// with the training data to measure drift (2..100 000). The default value is 500.
    /// </summary>
    public int DriftWindow { get; set; } = 500;

    /// <summary>
    /// Gets or sets the size below which an embedding set is searched exactly (brute force) rather than
    /// through its HNSW graph. Small sets get exact answers at no build cost: below 5 000 vectors of 128 floats
    /// a scan takes under about 0.5 ms, small next to a FindNearest call. When a set reaches it, its graph is
    /// built in the background while exact search keeps answering (see src/Chroma.Server/Indexing/README.md).
    /// 0 uses HNSW from the first record. The default value is 5 000.
    /// </summary>
    public int IndexExactSearchThreshold { get; set; } = 5_000;

    /// <summary>
    /// Gets or sets how long a nearest-neighbour query waits for the background indexer to apply every
    /// batch acknowledged before the query arrived (read-your-writes); past it the query answers from what
    /// is indexed. The default value is 2 seconds.
    /// </summary>
    public TimeSpan IndexCatchUpTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets how often changed HNSW indexes are saved under <c>{DataDirectory}/indexes</c> (they are
    /// also saved on shutdown); a restart loads them and replays only later records. The default value is 1 minute.
    /// </summary>
    public TimeSpan IndexSaveInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how often the indexes check the store for changes nobody told them about: the fallback for a missed
    /// PostgreSQL notice of another server's commit (on SQLite every commit wakes them directly). A query never depends on
    /// it: it reads the set's committed sequence itself and waits for the index. The default value is 2 seconds.
    /// </summary>
    public TimeSpan IndexPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Gets or sets how thoroughly the database is checked when the server starts after an unclean shutdown (a crash,
    /// SIGKILL or power loss leaves no <c>clean-shutdown</c> marker in the data directory): <see cref="IntegrityCheckMode.Quick"/>
    /// scans the write-ahead log for damage that would silently drop committed records and runs SQLite's <c>quick_check</c>;
    /// <see cref="IntegrityCheckMode.Full"/> runs <c>integrity_check</c> instead; <see cref="IntegrityCheckMode.Off"/> skips it.
    /// A damaged database is not served: the start fails naming the file. The default value is <see cref="IntegrityCheckMode.Quick"/>.
    /// </summary>
    public IntegrityCheckMode IntegrityCheck { get; set; } = IntegrityCheckMode.Quick;

    /// <summary>
    /// Gets or sets how long an ingest stream may stay open with no batch arriving and none waiting for its ack before the
    /// server closes it with <c>Unavailable</c> (the SDK opens a new one when it next has a batch). <see cref="TimeSpan.Zero"/>
    /// keeps idle streams open. The default value is 5 minutes.
    /// </summary>
    public TimeSpan IngestStreamIdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how long a shutdown may take (1 second to 5 minutes): open streams are told to re-send and in-flight
    /// commits finish within it; what is still running after it is abandoned (nothing acknowledged is lost). The default value is 5 seconds.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how many dedicated background threads build, catch up, estimate and save the sets' HNSW
    /// indexes (never thread-pool threads, so serving keeps its threads during a build). 0 means one per core
    /// but one (at least 1). Allowed range 0..1024. The default value is 0.
    /// </summary>
    public int IndexBuildThreads { get; set; }

    /// <summary>
    /// Gets or sets the least time between two checkpoints of a running HNSW build, saved under
    /// <c>{DataDirectory}/indexes</c> so a restart (even after a crash) resumes the build instead of starting
    /// over. A slow save stretches it so checkpoints cost at most about a tenth of the build. Allowed range
    /// 1 second..1 day. The default value is 30 seconds.
    /// </summary>
    public TimeSpan IndexBuildCheckpointInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the settings of Chroma Studio, the web app on its own HTTP/1.1 port (section <c>Chroma:Web</c>).
    /// The default value is a <see cref="WebOptions"/> with its defaults: on, port 50052.
    /// </summary>
    public WebOptions Web { get; set; } = new();

    /// <summary>
    /// Gets or sets which database holds the records (section <c>Chroma:Storage</c>). The default value
    /// is SQLite in <see cref="DataDirectory"/>.
    /// </summary>
    public StorageOptions Storage { get; set; } = new();

    /// <summary>
    /// Gets or sets how many dedicated threads run CPU-heavy background work (scoring passes: fit,
    /// scoring, drift), split into short chunks so health checks, ingest acks and queries keep
    /// their latency on the thread pool meanwhile (0..1024). 0 uses one thread less than the
    /// machine has cores, at least 1. The default value is 0.
    /// </summary>
    public int BackgroundWorkThreads { get; set; }

    /// <summary>
    /// Gets or sets how replicas sharing a PostgreSQL database divide the scoring (section <c>Chroma:Scoring</c>: lease
    /// duration, change polling). The default value is a <see cref="ScoringOptions"/> with its defaults (15 s lease, 1 s polling).
    /// </summary>
    public ScoringOptions Scoring { get; set; } = new();

    /// <summary>
    /// Gets or sets which records are deleted by age (section <c>Chroma:Retention</c>). The default value is a
    /// <see cref="RetentionOptions"/> without rules: nothing is deleted by age.
    /// </summary>
    public RetentionOptions Retention { get; set; } = new();

    /// <summary>Copies these options so a running server is not affected by later changes.</summary>
    internal ChromaServerOptions Clone()
    {
        var copy = (ChromaServerOptions)MemberwiseClone();
        copy.Web = Web.Clone();
        copy.Storage = Storage.Clone();
        copy.Scoring = Scoring.Clone();
        copy.Retention = Retention.Clone();
        return copy;
    }
}
