using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma.MLNet.Internal;

/// <summary>Forwards every call to the inner cursor and logs each row it moves onto that no cursor logged before.</summary>
internal sealed class CapturingCursor : DataViewRowCursor
{
    private readonly DataViewRowCursor _inner;
    private readonly CapturingDataView _view;
    private readonly RowCapture _capture;
    private readonly EmbeddingSet _set;

    public CapturingCursor(DataViewRowCursor inner, CapturingDataView view, RowCapture capture, EmbeddingSet set)
    {
        _inner = inner;
        _view = view;
        _capture = capture;
        _set = set;
    }

    public override DataViewSchema Schema => _inner.Schema;

    public override long Position => _inner.Position;

    public override long Batch => _inner.Batch;

    public override ValueGetter<DataViewRowId> GetIdGetter() => _inner.GetIdGetter();

    public override bool IsColumnActive(DataViewSchema.Column column) => _inner.IsColumnActive(column);

    public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _inner.GetGetter<TValue>(column);

    public override bool MoveNext()
    {
        if (!_inner.MoveNext())
        {
            return false;
        }

        if (_set.ShouldCapture && _view.TryClaim(_inner.Position))
        {
            _capture.CaptureCurrent();
        }

        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
