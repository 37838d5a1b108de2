using System.Diagnostics.Metrics;
using Chroma.Batching;

namespace Chroma.Diagnostics;

/// <summary>
/// Publishes the client's counters on the <c>Chroma</c> meter (OpenTelemetry picks it up with <c>AddMeter("Chroma")</c>).
/// Observable instruments read the counters on collection, so the capture path pays nothing for metrics. The price:
/// the instruments complete when the client is disposed, so what the drain settles after the last collection (records
/// counted as failed, the queue emptied) is never observed; <see cref="ChromaClient.Statistics"/> has the final counts.
/// </summary>
internal sealed class ChromaMeter : IDisposable
{
    /// <summary>The meter name (<see cref="ChromaDiagnostics.MeterName"/>).</summary>
    public const string Name = ChromaDiagnostics.MeterName;

    /// <summary>The histogram of milliseconds from a batch's (latest) send to the server's ack.</summary>
    public const string AckLatencyInstrument = ChromaDiagnostics.AckLatencyInstrument;

    /// <summary>The counter of records refused as invalid input (<see cref="ChromaStatistics.DroppedInvalid"/>), a part of the dropped ones.</summary>
    public const string DroppedInvalidInstrument = "chroma.client.records.dropped_invalid";

    private readonly Meter _meter;
    private readonly ClientCounters _counters;
    private readonly Histogram<double> _ackLatency;

    public ChromaMeter(ClientCounters counters)
    {
        _counters = counters;
        _meter = new Meter(Name, typeof(ChromaMeter).Assembly.GetName().Version?.ToString());
        _meter.CreateObservableCounter("chroma.client.records.received", () => counters.Received, "{record}", "Records passed to a Log method.");
        _meter.CreateObservableCounter("chroma.client.records.dropped", () => counters.Dropped, "{record}", "Records not queued: queue full, client disposed or invalid.");
        _meter.CreateObservableCounter(
            DroppedInvalidInstrument, () => counters.DroppedInvalid, "{record}", "Records refused as invalid input (counted in chroma.client.records.dropped too).");
        _meter.CreateObservableCounter("chroma.client.records.exported", () => counters.Exported, "{record}", "Records the server acknowledged as durable.");
        _meter.CreateObservableCounter("chroma.client.records.failed", () => counters.Failed, "{record}", "Records rejected by the server or undeliverable before disposal.");
        _meter.CreateObservableUpDownCounter("chroma.client.queue.size", () => counters.Snapshot().Queued, "{record}", "Records queued or in flight.");

        // A push instrument (one value per ack): percentiles need every observation, not a running sum.
        _ackLatency = _meter.CreateHistogram<double>(
            AckLatencyInstrument, "ms", "Time from writing a batch to the ingest stream to the server's ack (durable or rejected).");
        counters.AckLatencyObserved += RecordAckLatency;
    }

    public void Dispose()
    {
        _counters.AckLatencyObserved -= RecordAckLatency;
        _meter.Dispose();
    }

    private void RecordAckLatency(double milliseconds) => _ackLatency.Record(milliseconds);
}
