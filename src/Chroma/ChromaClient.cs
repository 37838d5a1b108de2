using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Threading.Channels;
using Chroma.Batching;
using Chroma.Diagnostics;
using Chroma.Protocol.V1;
using Chroma.Transport;
using Chroma.Transport.Internal;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Chroma;

/// <summary>
/// The entry point of the Chroma SDK: hands out <see cref="EmbeddingSet"/>s to log captured calls, ships them to the
/// server in the background, and queries what the server holds. Thread-safe; create one per process and dispose it at
/// shutdown so queued records are delivered.
/// </summary>
public sealed partial class ChromaClient : IChromaQueryClient, IAsyncDisposable, IDisposable
{
    private readonly ChromaClientOptions _options;
    private readonly CallInvoker _callInvoker;
    private readonly GrpcChannel[]? _ownedChannels;
    private readonly EndpointRotation? _rotation;
    private readonly Query.QueryClient _query;
    private readonly Protocol.V1.Labeling.LabelingClient _labeling;
    private readonly Metadata? _headers;
    private readonly Channel<PendingRecord> _records;
    private readonly ClientCounters _counters = new();
    private readonly SettleWaiters _settleWaiters;
    private readonly BatchAssembler _assembler;
    private readonly BatchSender _sender;
    private readonly Task _assemblerTask;
    private readonly Task _senderTask;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, EmbeddingSet> _sets = new(StringComparer.Ordinal);
    private readonly ChromaMeter _meter;
    private readonly DropReporter _dropReporter;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _queueCapacity;
    private volatile bool _captureEnabled = true;
    private volatile bool _disposed;
    private int _disposeStarted;
    private readonly TaskCompletionSource _disposal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly EventHandler _drainAtProcessExit;

    /// <summary>Creates a client for the server at <paramref name="endpoint"/> with default options.</summary>
    public ChromaClient(Uri endpoint)
        : this(new ChromaClientOptions { Endpoint = endpoint })
    {
    }

    /// <summary>
    /// Creates a client for <see cref="ChromaClientOptions.Endpoint"/> and starts its background sender. The client owns
    /// its HTTP/2 channel (built on <see cref="ChromaClientOptions.HttpHandler"/> when one is given) and closes it on
    /// disposal.
    /// </summary>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ChromaClient(ChromaClientOptions options)
        : this(options, sessionFactory: null)
    {
    }

    /// <summary>
    /// Creates a client over a channel the caller owns (for example one from a test server's handler, or one shared
    /// with other gRPC clients). The channel is borrowed: disposing the client does not dispose it.
    /// <see cref="ChromaClientOptions.Endpoint"/>, <see cref="ChromaClientOptions.HttpHandler"/> and
    /// <see cref="ChromaClientOptions.TrustedRootCertificate"/> are not used for the connection.
    /// </summary>
    /// <param name="channel">The channel to the Chroma server.</param>
    /// <param name="options">Batching, retry and timeout settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ChromaClient(GrpcChannel channel, ChromaClientOptions? options = null)
        : this(options ?? new ChromaClientOptions(), (channel ?? throw new ArgumentNullException(nameof(channel))).CreateCallInvoker(), ownedChannels: null, sessionFactory: null)
    {
    }

    /// <summary>
    /// Creates a client over any <see cref="CallInvoker"/>: an interceptor chain, an in-memory test server, or a fake
    /// that fails on purpose. The invoker is borrowed. <see cref="ChromaClientOptions.Endpoint"/> then only names the
    /// server in traces and health reports.
    /// </summary>
    /// <param name="callInvoker">What carries the client's calls.</param>
    /// <param name="options">Batching, retry and timeout settings, or <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public ChromaClient(CallInvoker callInvoker, ChromaClientOptions? options = null)
        : this(options ?? new ChromaClientOptions(), callInvoker ?? throw new ArgumentNullException(nameof(callInvoker)), ownedChannels: null, sessionFactory: null)
    {
    }

    internal ChromaClient(ChromaClientOptions options, IIngestSessionFactory? sessionFactory)
        : this(options, OwnChannels(options), sessionFactory)
    {
    }

    private ChromaClient(ChromaClientOptions options, GrpcChannel[] ownedChannels, IIngestSessionFactory? sessionFactory)
        : this(options, InvokerOver(options, ownedChannels), ownedChannels, sessionFactory)
    {
    }

    private ChromaClient(ChromaClientOptions options, CallInvoker callInvoker, GrpcChannel[]? ownedChannels, IIngestSessionFactory? sessionFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _time = options.TimeProvider;
        CreatedAt = _time.GetUtcNow();
        _queueCapacity = options.QueueCapacity;
        _logger = options.LoggerFactory is { } loggers ? new NonThrowingLoggerFactory(loggers).CreateLogger<ChromaClient>() : NullLogger.Instance;
        _ownedChannels = ownedChannels;
        _rotation = (callInvoker as FailoverCallInvoker)?.Rotation;
        _callInvoker = callInvoker;
        _query = new Query.QueryClient(_callInvoker);
        _labeling = new Protocol.V1.Labeling.LabelingClient(_callInvoker);
        _headers = string.IsNullOrEmpty(options.ApiKey) ? null : new Metadata { { ApiKeyHeader, options.ApiKey } };
        CaptureErrors = new CaptureErrorReporter(_logger);
        Buffers = ArrayPool<float>.Create(MaxPooledArrayLength, Math.Clamp(options.QueueCapacity, 16, MaxPooledArraysPerSize));

        _records = Channel.CreateBounded<PendingRecord>(new BoundedChannelOptions(options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails instead of waiting: the record is dropped and counted.
        });
        var batches = Channel.CreateBounded<OutgoingBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });
        _settleWaiters = new SettleWaiters(_counters);
        _assembler = new BatchAssembler(
            _records.Reader, batches.Writer, options.MaxBatchSize, options.FlushInterval, _counters, CaptureErrors, _time, options.MaxBatchBytes);
        _sender = new BatchSender(
            batches.Reader,
            sessionFactory ?? new GrpcIngestSessionFactory(_callInvoker, _headers, options.ServerEndpoints),
            RetryPipelineFactory.Create(options.Retry, _time, _logger, string.Join(", ", options.ServerEndpoints)),
            _counters,
            options.MaxBatchesInFlight,
            options.AckTimeout,
            _time,
            _logger);
        _meter = new ChromaMeter(_counters);
        // The loops and the drop timer live as long as the client: they must not carry the constructing caller's
        // ExecutionContext (its Activity, AsyncLocals, a CaptureSuppression scope) for their whole life.
        using (ExecutionContext.SuppressFlow())
        {
            _dropReporter = new DropReporter(_counters, _logger, options.DropLogInterval, _time);
            _assemblerTask = Task.Run(() => _assembler.RunAsync(_stopping.Token));
            _senderTask = Task.Run(() => _sender.RunAsync(_stopping.Token));
        }

        AppDomain.CurrentDomain.ProcessExit += _drainAtProcessExit = (_, _) => DrainAtProcessExit();
    }

    /// <summary>Builds the channels a client owns (one per endpoint); validates first so a bad option is named before any connection.</summary>
    private static GrpcChannel[] OwnChannels(ChromaClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return GrpcChannelFactory.CreateAll(options);
    }

    /// <summary>One endpoint: its channel's invoker. Several: an invoker that fails over between them.</summary>
    private static CallInvoker InvokerOver(ChromaClientOptions options, GrpcChannel[] channels) =>
        channels.Length == 1
            ? channels[0].CreateCallInvoker()
            : new FailoverCallInvoker(new EndpointRotation(options.ServerEndpoints), [.. channels.Select(c => c.CreateCallInvoker())]);

    private const int MaxPooledArrayLength = 1 << 16;
    private const int MaxPooledArraysPerSize = 16_384;

    /// <summary>The header that carries <see cref="ChromaClientOptions.ApiKey"/>.</summary>
    public const string ApiKeyHeader = "x-api-key";

    /// <summary>
    /// Gets how many records the client holds in memory at most (<see cref="ChromaClientOptions.QueueCapacity"/>): queued,
    /// batched and in flight together. A record logged while that many are held is dropped and counted.
    /// </summary>
    public int QueueCapacity => _queueCapacity;

    /// <summary>
    /// The server address in use: <see cref="ChromaClientOptions.Endpoint"/>, or with several
    /// <see cref="ChromaClientOptions.Endpoints"/> the one the client sends to now (the first until a failover).
    /// </summary>
    public Uri Endpoint => _rotation is { } rotation ? rotation.Endpoints[rotation.Current] : _options.Endpoint;

    /// <summary>Every server address the client may use, in order of preference (one unless several were configured).</summary>
    public IReadOnlyList<Uri> Endpoints => _rotation?.Endpoints ?? [_options.Endpoint];

    /// <summary>
    /// Whether <c>Log</c> calls and decorators capture anything. Switch off at run time to make capture cost one branch;
    /// records offered while off are neither queued nor counted. The default value is <see langword="true"/>.
    /// </summary>
    public bool CaptureEnabled
    {
        get => _captureEnabled;
        set => _captureEnabled = value;
    }

    /// <summary>
    /// A snapshot of what happened to the captured records so far. After <see cref="DisposeAsync"/> it holds the final
    /// counts: the <c>Chroma</c> meter's observable instruments complete at disposal, so records the drain counts as
    /// failed (and the queue it empties) after the meter's last collection are published only here.
    /// </summary>
    public ChromaStatistics Statistics => _counters.Snapshot();

    /// <summary>Capture problems (bad selectors, invalid inputs, exceptions inside capture) reported so far.</summary>
    public long CaptureErrorCount => CaptureErrors.Count;

    internal CaptureErrorReporter CaptureErrors { get; }

    /// <summary>
    /// Buffers for queued embeddings. A pool of the client's own, sized to its queue: the shared pool keeps only a few
    /// arrays per size and core, so with a few hundred records waiting most copies would be fresh allocations.
    /// </summary>
    internal ArrayPool<float> Buffers { get; }

    /// <summary>Flushes waiting for records to settle (for tests).</summary>
    internal int PendingFlushes => _settleWaiters.Count;

    /// <summary>Stream failures since the server last acknowledged a batch (0 when the connection is healthy).</summary>
    internal int ConsecutiveIngestFailures => _sender.ConsecutiveFailures;

    /// <summary>When the server last acknowledged a batch, or <see langword="null"/> if never.</summary>
    internal DateTimeOffset? LastAcknowledged => _sender.LastAck;

    /// <summary>Logs that the configuration key <paramref name="path"/> was ignored, and the setting it resembles.</summary>
    internal void WarnIgnoredSetting(string path, string meant) => ChromaClientLog.IgnoredSetting(_logger, path, meant);

    /// <summary>The last ingest failure that retrying cannot fix (status and detail) since the last acknowledgement, or <see langword="null"/>.</summary>
    internal string? IngestRefusal => _sender.Refusal;

    /// <summary>When this client was created (its clock's time): the health check's reference before the first acknowledgement.</summary>
    internal DateTimeOffset CreatedAt { get; }

    /// <summary>
    /// Returns the handle for an embedding set (the same handle for the same <see cref="EmbeddingSetDescriptor.Id"/>).
    /// The server creates the set on its first batch. The first call decides the handle's class names; a later call
    /// with other names throws (use <see cref="EmbeddingSet.WithClassNames"/> for records in another class order).
    /// </summary>
    /// <param name="descriptor">Model, version, layer and dimension.</param>
    /// <param name="classNames">
    /// Class names in the order of the class probabilities, or <see langword="null"/>: on the first call, "0".."n-1";
    /// on a later call, whatever names the handle already has. A record whose class probabilities differ in number from
    /// the names is refused as invalid input (<c>Log</c> returns <see langword="false"/>).
    /// </param>
    /// <exception cref="ArgumentException">
    /// A name is invalid, or the id is already used with another dimension, metric or list of class names.
    /// </exception>
    public EmbeddingSet GetEmbeddingSet(EmbeddingSetDescriptor descriptor, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        descriptor.Validate();
        if (classNames is not null && classNames.Any(name => name is null))
        {
            // As WithClassNames refuses it: accepted, the batching loop would fail on the first record with probabilities.
            throw new ArgumentException("A class name is null.", nameof(classNames));
        }

        var set = _sets.GetOrAdd(descriptor.Id, static (_, state) => new EmbeddingSet(state.Client, state.Descriptor, state.ClassNames), (Client: this, Descriptor: descriptor, ClassNames: classNames?.ToArray()));
        if (set.Descriptor.Dimension != descriptor.Dimension)
        {
            throw new ArgumentException(
                $"Embedding set '{descriptor.Id}' already has dimension {set.Descriptor.Dimension}, not {descriptor.Dimension}.", nameof(descriptor));
        }

        if (set.Descriptor.Metric != descriptor.Metric)
        {
            throw new ArgumentException(
                $"Embedding set '{descriptor.Id}' already has metric {set.Descriptor.Metric}, not {descriptor.Metric}.", nameof(descriptor));
        }

        if (classNames is not null && !SameNames(set.ClassNames, classNames))
        {
            throw new ArgumentException(
                $"Embedding set '{descriptor.Id}' already has class names {Describe(set.ClassNames)}, not {Describe(classNames)}; " +
                "for records in another class order use set.WithClassNames(names).",
                nameof(classNames));
        }

        return set;
    }

    private static bool SameNames(IReadOnlyList<string>? existing, IReadOnlyList<string> requested) =>
        existing is not null && existing.SequenceEqual(requested, StringComparer.Ordinal);

    private static string Describe(IReadOnlyList<string>? classNames) =>
        classNames is null ? "none (\"0\"..\"n-1\")" : $"[{string.Join(", ", classNames)}]";

    /// <summary>
    /// Sends every record received so far and waits until each is acknowledged, rejected or dropped. With the server
    /// down this waits for it to come back: pass a token to bound the wait.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The client was disposed (its records were delivered or counted then).</exception>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);

        // Every record received so far was either dropped (settled already) or queued: wait for the queued ones. Records
        // dropped meanwhile (a full queue while the server is down) must not count towards them.
        var target = _counters.Enqueued;
        _assembler.RequestFlush();
        return _settleWaiters.WaitAsync(target, cancellationToken);
    }

    internal bool TryEnqueue(
        EmbeddingSet set,
        string dataset,
        ReadOnlySpan<float> embedding,
        string? label,
        string? predictedClass,
        ReadOnlySpan<float> classProbabilities,
        string? inputUri,
        IReadOnlyDictionary<string, string>? metadata)
    {
        if (!_captureEnabled)
        {
            return false;
        }

        float[]? buffer = null;
        float[]? probabilities = null;
        try
        {
            _counters.AddReceived();
            if (_disposed)
            {
                _counters.AddDropped();
                return false;
            }

            if (embedding.Length != set.Descriptor.Dimension || dataset is null)
            {
                _counters.AddDroppedInvalid();
                var setId = set.Descriptor.Id;
                if (dataset is null)
                {
                    CaptureErrors.Report($"dataset is null, set '{setId}'", exception: null);
                }
                else
                {
                    CaptureErrors.Report(
                        $"embedding length differs from the set's dimension, set '{setId}'",
                        exception: null,
                        string.Create(CultureInfo.InvariantCulture, $"an embedding of {embedding.Length} values for set '{setId}' of dimension {set.Descriptor.Dimension}"));
                }

                return false;
            }

            if (RecordValueCheck.Problem(embedding, classProbabilities, dataset) is { } problem)
            {
                _counters.AddDroppedInvalid();
                CaptureErrors.Report($"{problem}, set '{set.Descriptor.Id}'", exception: null);
                return false;
            }

            if (set.ClassNames is { } classNames && !classProbabilities.IsEmpty && classProbabilities.Length != classNames.Count)
            {
                // Sent without names, the server would read these probabilities as classes "0".."n-1" of the same set.
                _counters.AddDroppedInvalid();
                var setId = set.Descriptor.Id;
                CaptureErrors.Report(
                    $"class probabilities differ in number from the set's class names, set '{setId}'",
                    exception: null,
                    string.Create(CultureInfo.InvariantCulture, $"{classProbabilities.Length} class probabilities for set '{setId}' with {classNames.Count} class names"));
                return false;
            }

            // Told once per set; the message is built only then (this runs on every Log call).
            if (RecordValueCheck.ProbabilitiesDoubtful(classProbabilities) && set.FirstProbabilityDoubt())
            {
                ChromaClientLog.SuspectValues(_logger, $"the class probabilities of a record of set '{set.Descriptor.Id}' {RecordValueCheck.DescribeProbabilityDoubt(classProbabilities)}; the uncertainty signals (entropy, margin, least confidence) need probabilities, such as the softmax of the logits");
            }

            var metadataCopy = metadata?.ToArray();
            if (metadataCopy is not null && HasNullKeyOrValue(metadataCopy))
            {
                _counters.AddDroppedInvalid();
                CaptureErrors.Report($"metadata has a null key or value, set '{set.Descriptor.Id}'", exception: null);
                return false;
            }

            // After the checks: an invalid record is counted (and reported) as invalid whether or not the queue has room,
            // so a bug in the caller's data shows while the server is down too.
            if (_counters.Outstanding > _queueCapacity)
            {
                // The bound covers every record in memory, batched and in flight included, not only the queue.
                _counters.AddDropped();
                return false;
            }

            buffer = Buffers.Rent(embedding.Length);
            embedding.CopyTo(buffer);
            if (!classProbabilities.IsEmpty)
            {
                probabilities = Buffers.Rent(classProbabilities.Length);
                classProbabilities.CopyTo(probabilities);
            }

            var record = new PendingRecord(
                set, dataset, buffer, embedding.Length, probabilities, classProbabilities.Length, label, predictedClass, inputUri,
                metadataCopy, _time.GetUtcNow().ToUnixTimeMilliseconds());
            if (_records.Writer.TryWrite(record))
            {
                // The queued record owns the buffers now: nothing below may return them (a throw would hand one array
                // to two records).
                buffer = null;
                probabilities = null;
                _counters.AddEnqueued();
                _assembler.OnRecordQueued();
                return true;
            }

            record.Release();
            _counters.AddDropped();
            return false;
        }
#pragma warning disable CA1031 // The capture path must never throw into the caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ReturnQuietly(buffer);
            ReturnQuietly(probabilities);
            _counters.AddDropped();
            CaptureErrors.Report(ex.GetType().Name, ex);
            return false;
        }
    }

    private static bool HasNullKeyOrValue(KeyValuePair<string, string>[] metadata)
    {
        foreach (var (key, value) in metadata)
        {
            if (key is null || value is null)
            {
                return true;
            }
        }

        return false;
    }

    private void ReturnQuietly(float[]? buffer)
    {
        if (buffer is not null)
        {
            Buffers.Return(buffer);
        }
    }
}
