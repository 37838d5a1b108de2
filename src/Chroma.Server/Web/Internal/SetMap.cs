namespace Chroma.Server.Web.Internal;

/// <summary>
/// One set's projected points, in sequence order, with small dictionaries for the categorical columns
/// (dataset, label, predicted class). Not thread-safe: <see cref="MapProjections"/> locks it.
/// </summary>
internal sealed class SetMap
{
    private readonly Dictionary<long, int> _indexOf = [];
    private long[] _sequences = new long[1024];
    private float[] _x = new float[1024];
    private float[] _y = new float[1024];
    private byte[] _dataset = new byte[1024];
    private ushort[] _label = new ushort[1024];
    private ushort[] _predicted = new ushort[1024];
    private int _count;
    private int _fitRows;
    private long _countAtFit;

    /// <summary>Gets the fitted projection, or null before the first fit.</summary>
    public IMapProjection? Projection { get; private set; }

    /// <summary>Gets the projection version: grows with every refit, when every point moved.</summary>
    public int Version { get; private set; }

    /// <summary>Gets or sets the highest sequence projected.</summary>
    public long ThroughSequence { get; set; }

    /// <summary>Gets how many tombstones the map has applied.</summary>
    public int DeletedSeen { get; private set; }

    /// <summary>Gets the dataset names; index 0 of every column means "none".</summary>
    public Categories Datasets { get; } = new();

    /// <summary>Gets the labels.</summary>
    public Categories Labels { get; } = new();

    /// <summary>Gets the predicted classes.</summary>
    public Categories Classes { get; } = new();

    /// <summary>Whether a set of <paramref name="liveCount"/> records deserves new components.</summary>
    public bool NeedsRefit(long liveCount) => _fitRows < MapProjections.FitSample && liveCount >= 2 * _countAtFit;

    /// <summary>Drops every point and starts over with <paramref name="projection"/>, fitted on <paramref name="fitRows"/> of <paramref name="liveCount"/> records.</summary>
    public void Reset(IMapProjection projection, int fitRows, long liveCount)
    {
        Projection = projection;
        _fitRows = fitRows;
        Version++;
        _count = 0;
        _indexOf.Clear();
        ThroughSequence = 0;
        DeletedSeen = 0;
        _countAtFit = Math.Max(1, liveCount);
    }

    /// <summary>Appends a point (sequences arrive in increasing order).</summary>
    public void Add(long sequence, float x, float y, string dataset, string? label, string? predicted)
    {
        if (_count == _sequences.Length)
        {
            var size = _count * 2;
            Array.Resize(ref _sequences, size);
            Array.Resize(ref _x, size);
            Array.Resize(ref _y, size);
            Array.Resize(ref _dataset, size);
            Array.Resize(ref _label, size);
            Array.Resize(ref _predicted, size);
        }

        _sequences[_count] = sequence;
        _x[_count] = x;
        _y[_count] = y;
        _dataset[_count] = (byte)Math.Min(Datasets.IndexOf(dataset), byte.MaxValue);
        _label[_count] = Labels.IndexOf(label);
        _predicted[_count] = Classes.IndexOf(predicted);
        _indexOf[sequence] = _count;
        _count++;
    }

    /// <summary>Updates the label and predicted class of a point.</summary>
    public void Relabel(long sequence, string? label, string? predicted)
    {
        if (_indexOf.TryGetValue(sequence, out var i))
        {
            _label[i] = Labels.IndexOf(label);
            _predicted[i] = Classes.IndexOf(predicted);
        }
    }

    /// <summary>Removes the points of <paramref name="deleted"/> (every tombstone so far), keeping the order.</summary>
    public void Remove(IReadOnlyList<long> deleted)
    {
        var gone = deleted.ToHashSet();
        var kept = 0;
        for (var i = 0; i < _count; i++)
        {
            if (gone.Contains(_sequences[i]))
            {
                _indexOf.Remove(_sequences[i]);
                continue;
            }

            _sequences[kept] = _sequences[i];
            _x[kept] = _x[i];
            _y[kept] = _y[i];
            _dataset[kept] = _dataset[i];
            _label[kept] = _label[i];
            _predicted[kept] = _predicted[i];
            _indexOf[_sequences[kept]] = kept;
            kept++;
        }

        _count = kept;
        DeletedSeen = deleted.Count;
    }

    /// <summary>A copy of the points, safe to read outside the lock.</summary>
    public MapSnapshot Snapshot() => new(
        Version,
        ThroughSequence,
        _sequences.AsSpan(0, _count).ToArray(),
        _x.AsSpan(0, _count).ToArray(),
        _y.AsSpan(0, _count).ToArray(),
        _dataset.AsSpan(0, _count).ToArray(),
        _label.AsSpan(0, _count).ToArray(),
        _predicted.AsSpan(0, _count).ToArray(),
        [.. Datasets.Names],
        [.. Labels.Names],
        [.. Classes.Names],
        Projection?.Name ?? string.Empty,
        Projection?.Variances.ToArray() ?? []);
}

/// <summary>Values of one categorical column; index 0 is "none", the others in order of first sight.</summary>
internal sealed class Categories
{
    private readonly Dictionary<string, ushort> _index = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];

    /// <summary>Gets the names, index 1 first.</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The index of <paramref name="value"/> (0 for null or empty; the last slot is shared past 65 534 values).</summary>
    public ushort IndexOf(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return 0;
        }

        if (_index.TryGetValue(value, out var i))
        {
            return i;
        }

        if (_names.Count >= ushort.MaxValue - 1)
        {
            return ushort.MaxValue;
        }

        _names.Add(value);
        i = (ushort)_names.Count;
        _index[value] = i;
        return i;
    }
}

/// <summary>An immutable copy of a set's map.</summary>
internal sealed record MapSnapshot(
    int Version,
    long ThroughSequence,
    long[] Sequences,
    float[] X,
    float[] Y,
    byte[] Dataset,
    ushort[] Label,
    ushort[] Predicted,
    string[] Datasets,
    string[] Labels,
    string[] Classes,
    string Projection,
    double[] Variances)
{
    /// <summary>A copy without the points of <paramref name="hidden"/>.</summary>
    public MapSnapshot Without(IReadOnlySet<long> hidden)
    {
        var keep = Enumerable.Range(0, Sequences.Length).Where(i => !hidden.Contains(Sequences[i])).ToArray();
        return this with
        {
            Sequences = [.. keep.Select(i => Sequences[i])],
            X = [.. keep.Select(i => X[i])],
            Y = [.. keep.Select(i => Y[i])],
            Dataset = [.. keep.Select(i => Dataset[i])],
            Label = [.. keep.Select(i => Label[i])],
            Predicted = [.. keep.Select(i => Predicted[i])],
        };
    }
}
