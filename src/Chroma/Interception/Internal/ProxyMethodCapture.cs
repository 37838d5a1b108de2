using System.Reflection;

namespace Chroma.Interception.Internal;

/// <summary>How one captured interface method is called and logged.</summary>
internal abstract class ProxyMethodCapture
{
    /// <summary>
    /// Calls <paramref name="method"/> on <paramref name="inner"/>, logs it when capture is open, and returns its result
    /// (for a value task, one with the same outcome). The method's own exceptions pass through unwrapped.
    /// </summary>
    public abstract object? Invoke(object inner, MethodInfo method, object?[] args);

    protected static object? Call(object inner, MethodInfo method, object?[] args) =>
        method.Invoke(inner, BindingFlags.DoNotWrapExceptions, binder: null, args, culture: null);
}

/// <summary>A captured method whose result (or awaited result) is <typeparamref name="TResult"/>.</summary>
internal sealed class ProxyMethodCapture<TResult> : ProxyMethodCapture
{
    private readonly CaptureRecorder<object?[], TResult> _recorder;
    private readonly ResultShape _shape;

    public ProxyMethodCapture(CaptureRecorder<object?[], TResult> recorder, ResultShape shape)
    {
        _recorder = recorder;
        _shape = shape;
    }

    /// <summary>How <paramref name="method"/> delivers a <typeparamref name="TResult"/>, or <see langword="null"/> when it does not.</summary>
    public static ResultShape? ShapeOf(MethodInfo method)
    {
        var type = method.ReturnType;
        if (type == typeof(Task<TResult>))
        {
            return ResultShape.Task;
        }

        if (type == typeof(ValueTask<TResult>))
        {
            return ResultShape.ValueTask;
        }

        return type != typeof(void) && typeof(TResult).IsAssignableFrom(type) ? ResultShape.Value : null;
    }

    public override object? Invoke(object inner, MethodInfo method, object?[] args)
    {
        if (!_recorder.IsOpen)
        {
            return Call(inner, method, args);
        }

        var result = Call(inner, method, args);
        switch (_shape)
        {
            case ResultShape.Task when result is Task<TResult> task:
                _recorder.RecordWhenDone(args, task);
                return result;
            case ResultShape.ValueTask when result is ValueTask<TResult>:
#pragma warning disable CA2012 // DispatchProxy returns results as object: the boxed value task is consumed once, by the caller.
                return _recorder.RecordWhenDone(args, (ValueTask<TResult>)result);
#pragma warning restore CA2012
            case ResultShape.Value:
                _recorder.Record(args, (TResult)result!);
                return result;
            default:
                return result;
        }
    }
}

/// <summary>How a captured method hands back its result.</summary>
internal enum ResultShape
{
    Value,
    Task,
    ValueTask,
}
