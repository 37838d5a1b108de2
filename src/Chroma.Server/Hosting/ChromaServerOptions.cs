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

    /// <summary>Copies these options so a running server is not affected by later changes.</summary>
    internal ChromaServerOptions Clone() => (ChromaServerOptions)MemberwiseClone();
}
