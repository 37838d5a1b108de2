using Microsoft.ML;

namespace Chroma.MLNet.Internal;

/// <summary>
/// A pass-through view whose un-shuffled cursors log each row the first time any cursor reads it. A high-water mark of
/// logged positions keeps a second read of the view from logging again.
/// </summary>
internal sealed class CapturingDataView : IDataView
{
    private readonly IDataView _inner;
    private readonly List<DataViewSchema.Column> _captureColumns;
    private readonly EmbeddingSet _set;
    private readonly DataViewCaptureOptions _options;
    private long _loggedRows;

    public CapturingDataView(IDataView inner, List<DataViewSchema.Column> captureColumns, EmbeddingSet set, DataViewCaptureOptions options)
    {
        _inner = inner;
        _captureColumns = captureColumns;
        _set = set;
        _options = options;
    }

    public bool CanShuffle => _inner.CanShuffle;

    public DataViewSchema Schema => _inner.Schema;

    public long? GetRowCount() => _inner.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        if (rand is not null)
        {
            // Shuffled positions do not name rows, so the high-water mark cannot tell which rows were logged.
            return _inner.GetRowCursor(columnsNeeded, rand);
        }

        var columns = columnsNeeded.Concat(_captureColumns).DistinctBy(c => c.Index);
        var cursor = _inner.GetRowCursor(columns);
        return new CapturingCursor(cursor, this, RowCapture.Create(cursor, _options, training: false, _set, ChromaTransformer.Adapter), _set);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        rand is not null
            ? _inner.GetRowCursorSet(columnsNeeded, n, rand)
            // A view may hand out fewer cursors than asked; one keeps positions in row order for the high-water mark.
            : [GetRowCursor(columnsNeeded)];

    /// <summary>True for the first cursor to reach <paramref name="position"/> in order; that cursor logs the row.</summary>
    internal bool TryClaim(long position) => Interlocked.CompareExchange(ref _loggedRows, position + 1, position) == position;
}
