using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Chroma.DependencyInjection;

/// <summary>
/// Reports the client's connection to the server: Healthy while batches are acknowledged, Degraded while the sender
/// retries (records wait in the bounded queue) or records were dropped since the last check, Unhealthy when the stream
/// has kept failing for longer than the threshold, or at once when the server refused it in a way retrying cannot fix
/// (<c>Unauthenticated</c>, <c>PermissionDenied</c>...: the records are counted failed, not kept), until a batch is
/// acknowledged again.
/// </summary>
public sealed class ChromaHealthCheck : IHealthCheck
{
    private readonly ChromaClient _client;
    private readonly TimeSpan _unhealthyAfter;
    private readonly TimeProvider _time;
    private long _droppedAtLastCheck;

    /// <summary>Creates the check.</summary>
    /// <param name="client">The client to watch.</param>
    /// <param name="unhealthyAfter">How long without an acknowledgement, while failing, makes the client unhealthy.</param>
    /// <param name="time">The clock.</param>
    public ChromaHealthCheck(ChromaClient client, TimeSpan unhealthyAfter, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _unhealthyAfter = unhealthyAfter;
        _time = time ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var stats = _client.Statistics;
        var failures = _client.ConsecutiveIngestFailures;
        var lastAck = _client.LastAcknowledged;
        var droppedSince = stats.Dropped - Interlocked.Exchange(ref _droppedAtLastCheck, stats.Dropped);
        var data = new Dictionary<string, object>
        {
            ["endpoint"] = _client.Endpoint.ToString(),
            ["received"] = stats.Received,
            ["exported"] = stats.Exported,
            ["dropped"] = stats.Dropped,
            ["failed"] = stats.Failed,
            ["queued"] = stats.Queued,
            ["consecutive_failures"] = failures,
        };
        if (lastAck is { } acknowledged)
        {
            data["last_ack"] = acknowledged.ToString("O", CultureInfo.InvariantCulture);
        }

        // Before the first acknowledgement the client's own start is the reference: a client seconds old is retrying, not down.
        var withoutAck = _time.GetUtcNow() - (lastAck ?? _client.CreatedAt);
        HealthCheckResult result;
        if (failures > 0 && _client.IngestRefusal is { } refusal)
        {
            // Retrying cannot fix it (a wrong API key, a refused set): records are counted failed, not waiting.
            data["refusal"] = refusal;
            result = HealthCheckResult.Unhealthy(
                string.Create(CultureInfo.InvariantCulture, $"Chroma server at {_client.Endpoint} refuses the ingest stream with {refusal}, which retrying cannot fix (check Chroma:ApiKey when Unauthenticated); {stats.Failed} records counted failed so far."),
                data: data);
        }
        else if (failures > 0 && withoutAck > _unhealthyAfter && stats.Queued > 0)
        {
            var since = lastAck is null ? "since the client started" : "since the last one";
            result = HealthCheckResult.Unhealthy(
                string.Create(CultureInfo.InvariantCulture, $"Chroma server at {_client.Endpoint} has not acknowledged a batch in the {withoutAck.TotalSeconds:F0} s {since} (over {_unhealthyAfter.TotalSeconds:F0} s; {failures} failed attempts)."),
                data: data);
        }
        else if (failures > 0)
        {
            result = HealthCheckResult.Degraded($"Chroma is retrying the connection to {_client.Endpoint}; records wait in the queue.", data: data);
        }
        else if (droppedSince > 0)
        {
            result = HealthCheckResult.Degraded($"Chroma dropped {droppedSince} records since the last check (queue full or invalid input).", data: data);
        }
        else if (lastAck is null)
        {
            // Nothing failed, and nothing was acknowledged either (probe L, L3: "delivering" read as proof of a working
            // endpoint, also when the first batch had not been sent yet).
            result = HealthCheckResult.Healthy(
                stats.Received == 0
                    ? $"Chroma has sent nothing to {_client.Endpoint} yet (nothing was logged); no attempt has failed."
                    : $"Chroma has not had a batch acknowledged by {_client.Endpoint} yet; no attempt has failed so far.",
                data);
        }
        else
        {
            result = HealthCheckResult.Healthy($"Chroma is delivering to {_client.Endpoint}.", data);
        }

        return Task.FromResult(result);
    }
}
