using Chroma.Server.Storage.Internal;
using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;

namespace Chroma.Server.Storage.Postgres;

/// <summary>
/// Holds one connection that <c>LISTEN</c>s on <see cref="PostgresChangeNotice.Channel"/> and tells every
/// <see cref="IStoreChangeSink"/> about every commit, this server's and the others' (a set key and its new sequence),
/// and on <see cref="PostgresScoringNotice.Channel"/> and tells the <see cref="IScoringChangeSink"/> about published
/// rankings and waiting requests. A connection lost to a database outage (stopped, restarting, unreachable) is re-opened
/// every <see cref="OutageRetryDelay"/> at most (a refused connection costs nothing, and notices resume within that of
/// the database's return), and logged as the other components log an outage (<see cref="StorageOutageLog"/>: one warning
/// without a stack trace, a reminder a minute, one line when it listens again); any other failure is logged with its
/// stack trace and retried after a delay growing from 1 s to 30 s. After each (re)connect the sinks are told notices may
/// have been missed, so they check every set against the store. The sinks' own polls cover the gaps.
/// </summary>
internal sealed class PostgresChangeListener : BackgroundService
{
    /// <summary>The longest wait before re-opening a connection lost to a database outage: 2 s.</summary>
    internal static readonly TimeSpan OutageRetryDelay = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    private readonly string _connectionString;
    private readonly IReadOnlyList<IStoreChangeSink> _sinks;
    private readonly IScoringChangeSink? _scoring;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PostgresChangeListener> _logger;
    private readonly StorageOutageLog _outageLog;

    /// <summary>
    /// Creates the listener for the database of <paramref name="connectionString"/>: commits go to every one of
    /// <paramref name="sinks"/>, in order; scoring notices to <paramref name="scoring"/> (none: the channel is not heard).
    /// </summary>
    public PostgresChangeListener(
        string connectionString, IReadOnlyList<IStoreChangeSink> sinks, IScoringChangeSink? scoring, TimeProvider timeProvider, ILogger<PostgresChangeListener> logger)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        var builder = PostgresConnection.Parse(connectionString);

        // Its own unpooled connection, kept open; keepalives notice a peer that vanished without closing it.
        builder.Pooling = false;
        if (builder.KeepAlive == 0)
        {
            builder.KeepAlive = 15;
        }

        _connectionString = builder.ConnectionString;
        _sinks = sinks;
        _scoring = scoring;
        _timeProvider = timeProvider;
        _logger = logger;
        _outageLog = new StorageOutageLog(logger, "the listener for other replicas' changes", timeProvider);
    }

    /// <summary>Gets how many times the listening connection was (re)opened.</summary>
    public int Connections { get; private set; }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = FirstRetryDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            var connections = Connections;
            try
            {
                await ListenAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Whatever broke the connection, the listener must outlive it (a hosted service that throws stops the host).
            catch (Exception ex)
#pragma warning restore CA1031
            {
                // A connection that was listening starts the count again: the next outage is retried as soon.
                delay = Connections != connections ? FirstRetryDelay : delay;
                var wait = delay;
                if (_outageLog.TryLog(ex))
                {
                    wait = delay < OutageRetryDelay ? delay : OutageRetryDelay;
                }
                else
                {
                    PostgresListenerLog.ListenFailed(_logger, delay, ex);
                }

                try
                {
                    await Task.Delay(wait, _timeProvider, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private async Task ListenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_connectionString);
        await using (connection.ConfigureAwait(false))
        {
            connection.Notification += OnNotification;
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var listen = _scoring is null
                ? $"LISTEN {PostgresChangeNotice.Channel};"
                : $"LISTEN {PostgresChangeNotice.Channel}; LISTEN {PostgresScoringNotice.Channel};";
            using (var command = new NpgsqlCommand(listen, connection))
            {
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            Connections++;

            // After an outage its end is the line that says so ("The database is back for the listener ...").
            if (!_outageLog.Succeeded())
            {
                PostgresListenerLog.Listening(_logger, PostgresChangeNotice.Channel);
            }

            // Commits made while nobody listened (before the first connect, or while the connection was down).
            foreach (var sink in _sinks)
            {
                sink.OnChangesMissed();
            }

            while (true)
            {
                await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        try
        {
            if (string.Equals(e.Channel, PostgresScoringNotice.Channel, StringComparison.Ordinal))
            {
                if (_scoring is not null)
                {
                    PostgresScoringNotice.Dispatch(e.Payload, _scoring);
                }
            }
            else if (PostgresChangeNotice.TryParse(e.Payload, out var setKey, out var sequence))
            {
                foreach (var sink in _sinks)
                {
                    sink.OnCommitted(setKey, sequence);
                }
            }
        }
#pragma warning disable CA1031 // A sink's fault must not break the connection every other notice arrives on; the polls cover what it missed.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            PostgresListenerLog.SinkFailed(_logger, e.Channel, ex);
        }
    }
}
