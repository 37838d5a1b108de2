using System.Diagnostics.Metrics;

namespace Chroma.IntegrationTests.Load;

/// <summary>Collects every <c>chroma.client.batch.ack_latency</c> value the clients of this process record, for percentiles.</summary>
internal sealed class AckLatencyRecorder : IDisposable
{
    private const string Instrument = "chroma.client.batch.ack_latency";
    private readonly MeterListener _listener = new();
    private readonly List<double> _values = [];
    private readonly Lock _gate = new();

    public AckLatencyRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Chroma" && instrument.Name == Instrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (_gate)
            {
                _values.Add(value);
            }
        });
        _listener.Start();
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _values.Count;
            }
        }
    }

    /// <summary>The <paramref name="percentile"/> (0-100) of the recorded milliseconds, nearest-rank.</summary>
    public double Percentile(double percentile)
    {
        double[] sorted;
        lock (_gate)
        {
            sorted = [.. _values];
        }

        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public void Dispose() => _listener.Dispose();
}
