using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma.MLNet.Internal;

/// <summary>Reads a vector-of-float column of the current row as a dense span, reusing its buffers row after row.</summary>
internal sealed class VectorColumnReader
{
    private readonly ValueGetter<VBuffer<float>> _getter;
    private VBuffer<float> _buffer;
    private float[] _dense = [];

    private VectorColumnReader(ValueGetter<VBuffer<float>> getter)
    {
        _getter = getter;
    }

    /// <summary>Whether <paramref name="column"/> holds float vectors.</summary>
    public static bool Fits(DataViewSchema.Column column) =>
        column.Type is VectorDataViewType { ItemType: NumberDataViewType item } && item.RawType == typeof(float);

    /// <summary>A reader for <paramref name="column"/>, or <see langword="null"/> when it does not hold float vectors.</summary>
    public static VectorColumnReader? Create(DataViewRow row, DataViewSchema.Column column) =>
        Fits(column) ? new VectorColumnReader(row.GetGetter<VBuffer<float>>(column)) : null;

    /// <summary>The current row's vector; valid until the next call.</summary>
    public ReadOnlySpan<float> Read()
    {
        _getter(ref _buffer);
        if (_buffer.IsDense)
        {
            return _buffer.GetValues();
        }

        // Sparse vectors (e.g. from text featurizers) are spread into a reused dense buffer.
        if (_dense.Length != _buffer.Length)
        {
            _dense = new float[_buffer.Length];
        }

        Array.Clear(_dense);
        var values = _buffer.GetValues();
        var indices = _buffer.GetIndices();
        for (var i = 0; i < values.Length; i++)
        {
            _dense[indices[i]] = values[i];
        }

        return _dense;
    }
}
