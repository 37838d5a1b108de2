using System.Reflection;
using Chroma.Server.Storage;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>
/// A record store that passes every call to the real one and runs <see cref="Then"/> once, right after the first
/// <see cref="IRecordStore.FindExpiredIds"/> returned: a test puts a write (a reviewer's label) between retention's read
/// and its delete, whatever the machine's speed.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy derives its proxy type from this class: it must not be sealed.
internal class AfterExpiredRead : DispatchProxy
#pragma warning restore CA1852
{
    private IRecordStore _inner = null!;
    private Func<IReadOnlyList<string>, Task>? _then;

    /// <summary>Wraps <paramref name="inner"/>; <paramref name="then"/> gets the ids the first read found.</summary>
    public static IRecordStore Wrap(IRecordStore inner, Func<IReadOnlyList<string>, Task> then)
    {
        var store = Create<IRecordStore, AfterExpiredRead>();
        var proxy = (AfterExpiredRead)(object)store;
        proxy._inner = inner;
        proxy._then = then;
        return store;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        object? result;
        try
        {
            result = targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is { } inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(inner);
            throw;
        }

        if (targetMethod.Name == nameof(IRecordStore.FindExpiredIds) && Interlocked.Exchange(ref _then, null) is { } then)
        {
            then((IReadOnlyList<string>)result!).Wait(TimeSpan.FromSeconds(30));
        }

        return result;
    }
}
