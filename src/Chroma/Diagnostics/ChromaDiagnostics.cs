namespace Chroma.Diagnostics;

/// <summary>
/// The names the client publishes telemetry under, for OpenTelemetry's <c>AddMeter</c> and <c>AddSource</c>
/// (<c>builder.WithMetrics(m =&gt; m.AddMeter(ChromaDiagnostics.MeterName))</c>).
/// </summary>
public static class ChromaDiagnostics
{
    /// <summary>
    /// The meter with the client's record counters, queue size and ack latency: <c>Chroma</c>. Its counters are
    /// observed at collection and complete when the client is disposed, so the final counts (records the drain counts
    /// as failed) are in <see cref="ChromaClient.Statistics"/>, not on the meter.
    /// </summary>
    public const string MeterName = "Chroma";

    /// <summary>The activity source with one client span per query: <c>Chroma</c>.</summary>
    public const string ActivitySourceName = "Chroma";

    /// <summary>The histogram of milliseconds from a batch's (latest) send to the server's ack.</summary>
    public const string AckLatencyInstrument = "chroma.client.batch.ack_latency";
}
