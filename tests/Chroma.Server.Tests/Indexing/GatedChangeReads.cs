using System.Reflection;
using Chroma.Server.Storage;

namespace Chroma.Server.Tests.Indexing;

/// <summary>
/// A record store that passes every call to the real one, except that once <see cref="HoldAfter"/> change pages were
/// read, the next <see cref="IRecordStore.ReadChanges"/> waits until <see cref="Release"/>: a test can hold an index
/// catch-up round in the middle of its backlog, whatever the machine's speed.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy derives its proxy type from this class: it must not be sealed.
internal class GatedChangeReads : DispatchProxy
#pragma warning restore CA1852
{
    private readonly ManualResetEventSlim _released = new(false);
    private readonly SemaphoreSlim _held = new(0);
    private IRecordStore _inner = null!;
    private int _reads;

    /// <summary>Gets or sets how many change pages are read before the next one waits.</summary>
    public int HoldAfter { get; set; } = int.MaxValue;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public static (IRecordStore Store, GatedChangeReads Gate) Wrap(IRecordStore inner)
    {
        var store = Create<IRecordStore, GatedChangeReads>();
        var gate = (GatedChangeReads)(object)store;
        gate._inner = inner;
        return (store, gate);
    }

    /// <summary>Waits until a change read is held at the gate.</summary>
    public Task<bool> WaitUntilHeldAsync(TimeSpan timeout) => _held.WaitAsync(timeout);

    /// <summary>Lets every held and later read through.</summary>
    public void Release() => _released.Set();

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IRecordStore.ReadChanges) && Interlocked.Increment(ref _reads) > HoldAfter && !_released.IsSet)
        {
            _held.Release();
            _released.Wait(TimeSpan.FromSeconds(30));
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is { } inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
            throw;
        }
    }
}
