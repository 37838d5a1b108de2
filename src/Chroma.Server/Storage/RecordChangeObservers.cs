namespace Chroma.Server.Storage;

/// <summary>
/// The observers a store calls after each commit, in <see cref="IRecordChangeObserver.Order"/>.
/// They are resolved on first use, not when the store opens: the index and the scheduler read the
/// store themselves, so they can only be built after it.
/// </summary>
internal sealed class RecordChangeObservers
{
    private readonly Lazy<IRecordChangeObserver[]> _observers;
    private readonly Action<IRecordChangeObserver, Exception>? _onFailure;
    private long _failures;

    /// <summary>Creates the list from <paramref name="resolve"/>, called once on the first commit.</summary>
    /// <param name="resolve">Gives every observer (any order; they are sorted by <see cref="IRecordChangeObserver.Order"/>).</param>
    /// <param name="onFailure">Told about an observer that threw (the store's commit is never undone by it).</param>
    public RecordChangeObservers(Func<IEnumerable<IRecordChangeObserver>> resolve, Action<IRecordChangeObserver, Exception>? onFailure = null)
    {
        ArgumentNullException.ThrowIfNull(resolve);
        _observers = new Lazy<IRecordChangeObserver[]>(
            () => [.. resolve().OrderBy(o => o.Order)], LazyThreadSafetyMode.ExecutionAndPublication);
        _onFailure = onFailure;
    }

    /// <summary>Gets a list without observers (a store opened by a command that only reads or migrates).</summary>
    public static RecordChangeObservers None { get; } = new(() => []);

    /// <summary>Gets the observers in the order they are called (resolving them if not yet done).</summary>
    public IReadOnlyList<IRecordChangeObserver> Observers => _observers.Value;

    /// <summary>Gets how many observer calls threw (each was skipped; the others still ran).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Tells every observer about a committed batch.</summary>
    public void RecordsStored(StoredEmbeddingSet set, IReadOnlyList<InsertedRecord> inserted)
    {
        foreach (var observer in _observers.Value)
        {
            try
            {
                observer.OnRecordsStored(set, inserted);
            }
#pragma warning disable CA1031 // The commit is done: an observer's fault must not fail the write or skip the next observer.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Fault(observer, ex);
            }
        }
    }

    /// <summary>Tells every observer about a committed delete.</summary>
    public void RecordsDeleted(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
    {
        foreach (var observer in _observers.Value)
        {
            try
            {
                observer.OnRecordsDeleted(set, sequences);
            }
#pragma warning disable CA1031 // As above.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Fault(observer, ex);
            }
        }
    }

    private void Fault(IRecordChangeObserver observer, Exception exception)
    {
        Interlocked.Increment(ref _failures);
        _onFailure?.Invoke(observer, exception);
    }
}
