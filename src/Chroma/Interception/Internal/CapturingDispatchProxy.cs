using System.Reflection;

namespace Chroma.Interception.Internal;

/// <summary>
/// The <see cref="DispatchProxy"/> behind <see cref="ChromaProxy"/>: forwards every call to the wrapped object and logs
/// the chosen methods. Must stay non-sealed with a public parameterless constructor: DispatchProxy derives from it.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy generates a subclass at run time.
internal class CapturingDispatchProxy : DispatchProxy
#pragma warning restore CA1852
{
    private object _inner = null!;
    private Dictionary<MethodInfo, ProxyMethodCapture> _captures = null!;

    internal void Initialize(object inner, Dictionary<MethodInfo, ProxyMethodCapture> captures)
    {
        _inner = inner;
        _captures = captures;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        args ??= [];
        return _captures.TryGetValue(targetMethod, out var capture)
            ? capture.Invoke(_inner, targetMethod, args)
            : targetMethod.Invoke(_inner, BindingFlags.DoNotWrapExceptions, binder: null, args, culture: null);
    }
}
