using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Chroma;

/// <summary>Settings of a <see cref="ChromaClient"/>. Every property has a working default.</summary>
public sealed class ChromaClientOptions
{
    /// <summary>The server address. The default value is <c>http://localhost:50051</c>; use <c>https://</c> for TLS.</summary>
    public Uri Endpoint { get; set; } = new("http://localhost:50051");

    /// <summary>
    /// Several replicas of one server (all on the same store, e.g. PostgreSQL), in order of preference. When not empty it
    /// replaces <see cref="Endpoint"/>: the client sends to the first; when a call or the ingest stream finds that replica
    /// unreachable (or the stream fails, or no acknowledgement comes within <see cref="AckTimeout"/>) it moves on to the
    /// next (wrapping around) and stays there. Unacknowledged batches are re-sent there with the same batch and record
    /// ids, so nothing is lost and nothing is stored twice; a query answered <c>Unavailable</c>, or whose TLS handshake
    /// failed (Internal, but the call never reached the replica), is tried once on each other endpoint within its <see cref="RequestTimeout"/>. To spread clients over replicas, list them in a different
    /// order per client. The default value is an empty list (use <see cref="Endpoint"/>).
    /// </summary>
    public IList<Uri> Endpoints { get; } = new List<Uri>();

    /// <summary>
    /// The API key sent as the <c>x-api-key</c> header on every call, or <see langword="null"/> (the default) when the
    /// server has none. The key is never logged. It must be printable ASCII (a gRPC header value: no control
    /// characters such as a line break, no leading or trailing space); <see cref="Validate"/> refuses any other.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// How many captured records may be held in memory: queued, in a batch being assembled, or sent and awaiting the
    /// server's acknowledgement. When that many are held, a new record is dropped and counted
    /// (<see cref="ChromaStatistics.Dropped"/>); the caller is never blocked. Memory is about
    /// <c>QueueCapacity x dimension x 4</c> bytes at most. The default value is 10,000.
    /// </summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>The most records sent in one batch. The default value is 512.</summary>
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>
    /// The most bytes of records sent in one batch (their encoded protobuf size): a batch is closed before a record would
    /// take it past this, and a single record larger than this is sent alone. Keep it under the server's message limit
    /// (<c>Chroma:Limits:MaxMessageBytes</c>, 64 MiB by default; a proxy in between may allow less, gRPC's usual default
    /// is 4 MiB). A batch the server still refuses for its size is split in halves and re-sent; only a single record
    /// the server refuses as too large is dropped (counted in <see cref="ChromaStatistics.Failed"/>, with a warning).
    /// 1 KiB to 64 MiB. The default value is 4 MiB (4,194,304).
    /// </summary>
    public int MaxBatchBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// How long a partly filled batch waits for more records before it is sent. The default value is 1 second.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many batches may be on the wire without an acknowledgement. The default value is 4.
    /// </summary>
    public int MaxBatchesInFlight { get; set; } = 4;

    /// <summary>
    /// How long <see cref="ChromaClient.DisposeAsync"/> keeps delivering queued records before it gives up and counts the
    /// rest as failed. The default value is 5 seconds.
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long the sender waits for the server to acknowledge a batch before it treats the stream as broken and re-sends.
    /// The default value is 30 seconds.
    /// </summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Deadline of each query call. The default value is 30 seconds.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How the background sender retries transient failures.</summary>
    public ChromaRetryOptions Retry { get; set; } = new();

    /// <summary>
    /// The most often a drop warning is logged; drops in between are summed into the next warning. The default value is
    /// 10 seconds.
    /// </summary>
    public TimeSpan DropLogInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where the client logs, or <see langword="null"/> (the default) for no logging. The client's gRPC channels log
    /// here too, from Warning up (below that they repeat every failed connection attempt with a stack trace).
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// A certificate to trust as the root of the server's TLS certificate chain (for an <c>https://</c>
    /// <see cref="Endpoint"/> whose certificate is self-signed or from a private CA), in addition to
    /// nothing else: when set, only chains ending in this certificate are accepted, and the host name
    /// must still match. The default value is <see langword="null"/>: the operating system's trusted roots.
    /// </summary>
    public X509Certificate2? TrustedRootCertificate { get; set; }

    /// <summary>
    /// The HTTP handler the client's own channel sends through, or <see langword="null"/> (the default) for a
    /// <see cref="SocketsHttpHandler"/> with HTTP/2 keep-alive pings. Pass a test server's handler, a handler with a proxy
    /// or client certificates, or one with logging. The client does not dispose it. Cannot be combined with
    /// <see cref="TrustedRootCertificate"/> (configure trust on the handler instead).
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>The clock; tests inject a fake one. The default value is <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A shallow copy (every setting, whatever is added later; <see cref="Retry"/> is shared).</summary>
    internal ChromaClientOptions Clone() => (ChromaClientOptions)MemberwiseClone();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that is out of range.</summary>
    public void Validate()
    {
        if (Endpoints.Count == 0)
        {
            ArgumentNullException.ThrowIfNull(Endpoint, nameof(Endpoint));
            RequireServerUri(Endpoint, nameof(Endpoint));
        }

        for (var i = 0; i < Endpoints.Count; i++)
        {
            var name = $"{nameof(Endpoints)}[{i}]";
            if (Endpoints[i] is not { } endpoint)
            {
                throw new ArgumentNullException(name, $"{name} is null.");
            }

            RequireServerUri(endpoint, name);
            if (Endpoints.Take(i).Any(e => e == endpoint))
            {
                throw new ArgumentException($"{name} '{endpoint}' is listed twice.", nameof(Endpoints));
            }
        }

        RequirePositive(QueueCapacity, nameof(QueueCapacity));
        RequirePositive(MaxBatchSize, nameof(MaxBatchSize));
        if (MaxBatchBytes is < 1024 or > Transport.GrpcChannelFactory.MaxMessageBytes)
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxBatchBytes), MaxBatchBytes, $"{nameof(MaxBatchBytes)} must be between 1024 and {Transport.GrpcChannelFactory.MaxMessageBytes} (64 MiB).");
        }

        RequirePositive(MaxBatchesInFlight, nameof(MaxBatchesInFlight));
        RequirePositive(FlushInterval, nameof(FlushInterval));
        RequirePositive(AckTimeout, nameof(AckTimeout));
        RequirePositive(RequestTimeout, nameof(RequestTimeout));
        RequirePositive(DropLogInterval, nameof(DropLogInterval));
        if (DrainTimeout < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(DrainTimeout), DrainTimeout, $"{nameof(DrainTimeout)} must not be negative.");
        }

        // These become timers (Task.Delay, WaitAsync, ITimer), which refuse longer spans: past this the batching or
        // sending loop would stop at its first wait, or disposal would throw.
        RequireTimerSpan(FlushInterval, nameof(FlushInterval));
        RequireTimerSpan(AckTimeout, nameof(AckTimeout));
        RequireTimerSpan(DrainTimeout, nameof(DrainTimeout));
        RequireTimerSpan(DropLogInterval, nameof(DropLogInterval));

        if (HttpHandler is not null && TrustedRootCertificate is not null)
        {
            throw new ArgumentException(
                $"{nameof(HttpHandler)} and {nameof(TrustedRootCertificate)} cannot both be set: configure the trusted root on the handler.",
                nameof(TrustedRootCertificate));
        }

        if (ApiKey is { } apiKey && !IsHeaderValue(apiKey))
        {
            // The key itself is not echoed: exception messages end up in logs.
            throw new ArgumentException(
                $"{nameof(ApiKey)} contains a character not allowed in an HTTP header value (a control character such as a line break, a non-ASCII character, or a leading or trailing space).",
                nameof(ApiKey));
        }

        ArgumentNullException.ThrowIfNull(Retry, nameof(Retry));
        Retry.Validate();
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }

    /// <summary>The endpoints the client connects to: <see cref="Endpoints"/>, or <see cref="Endpoint"/> alone.</summary>
    internal IReadOnlyList<Uri> ServerEndpoints => Endpoints.Count > 0 ? [.. Endpoints] : [Endpoint];

    private static void RequireServerUri(Uri endpoint, string name)
    {
        if (!endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"{name} must be an absolute http:// or https:// URI, not '{endpoint}'.", name);
        }

        if (endpoint.AbsolutePath != "/" || endpoint.Query.Length > 0 || endpoint.Fragment.Length > 0)
        {
            // gRPC calls go to /chroma.v1.Ingest/Log and so on at the root: a path would be dropped without a word.
            throw new ArgumentException(
                $"{name} must name the server only (scheme, host and port), not '{endpoint}': gRPC calls go to the root, so '{endpoint.PathAndQuery}{endpoint.Fragment}' would be ignored.", name);
        }
    }

    /// <summary>Whether <paramref name="value"/> can travel as a gRPC ASCII header value: printable ASCII, not padded.</summary>
    private static bool IsHeaderValue(string value) =>
        value.All(c => c is >= ' ' and <= '~') && (value.Length == 0 || (value[0] != ' ' && value[^1] != ' '));

    private static void RequirePositive(int value, string name)
    {
        if (value <= 0)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }

    /// <summary>The longest span a .NET timer takes (4,294,967,294 ms, about 49.7 days).</summary>
    internal static readonly TimeSpan MaxTimeSpan = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private static void RequireTimerSpan(TimeSpan value, string name)
    {
        if (value > MaxTimeSpan)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be at most {MaxTimeSpan} (about 49.7 days, the longest a .NET timer waits).");
        }
    }

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }
}
