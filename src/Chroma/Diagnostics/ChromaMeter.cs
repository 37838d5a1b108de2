using System.Diagnostics.Metrics;
using Chroma.Batching;

namespace Chroma.Diagnostics;

/// <summary>
/// Publishes the client's counters on the <c>Chroma</c> meter (OpenTelemetry picks it up with <c>AddMeter("Chroma")</c>).
/// Observable instruments read the counters on collection, so the capture path pays nothing for metrics.
/// </summary>
internal sealed class ChromaMeter : IDisposable
{
    /// <summary>The meter name.</summary>
    public const string Name = "Chroma";

    private readonly Meter _meter;

    public ChromaMeter(ClientCounters counters)
    {
        _meter = new Meter(Name, typeof(ChromaMeter).Assembly.GetName().Version?.ToString());
        _meter.CreateObservableCounter("chroma.client.records.received", () => counters.Received, "{record}", "Records passed to a Log method.");
        _meter.CreateObservableCounter("chroma.client.records.dropped", () => counters.Dropped, "{record}", "Records not queued: queue full, client disposed or invalid.");
        _meter.CreateObservableCounter("chroma.client.records.exported", () => counters.Exported, "{record}", "Records the server acknowledged as durable.");
        _meter.CreateObservableCounter("chroma.client.records.failed", () => counters.Failed, "{record}", "Records rejected by the server or undeliverable before disposal.");
        _meter.CreateObservableUpDownCounter("chroma.client.queue.size", () => counters.Snapshot().Queued, "{record}", "Records queued or in flight.");
    }

    public void Dispose() => _meter.Dispose();
}
