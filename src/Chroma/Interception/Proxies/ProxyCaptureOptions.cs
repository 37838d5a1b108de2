using System.Reflection;
using Chroma.Interception.Internal;

namespace Chroma;

/// <summary>
/// Chooses which methods of <typeparamref name="TInterface"/> a <see cref="ChromaProxy"/> captures, and how. Methods not
/// chosen are forwarded untouched. A selector sees the call's arguments (as passed, after the call for <c>out</c>
/// parameters) and its result; for methods returning <see cref="Task{TResult}"/> or <see cref="ValueTask{TResult}"/> the
/// result is the awaited value and the call is logged when it succeeds.
/// </summary>
/// <typeparam name="TInterface">The interface being proxied.</typeparam>
public sealed class ProxyCaptureOptions<TInterface>
    where TInterface : class
{
    private readonly List<(MethodInfo Method, Func<EmbeddingSet, ProxyMethodCapture> Create)> _captures = [];

    internal ProxyCaptureOptions()
    {
    }

    internal int Count => _captures.Count;

    /// <summary>Captures every overload named <paramref name="methodName"/> whose result is <typeparamref name="TResult"/>.</summary>
    /// <typeparam name="TResult">The method's return type, or T of a <see cref="Task{T}"/> / <see cref="ValueTask{T}"/> result.</typeparam>
    /// <param name="methodName">The method name, e.g. <c>nameof(IEmbedder.Embed)</c>.</param>
    /// <param name="configure">Sets the selectors; <see cref="CaptureOptions{TIn, TOut}.Embedding"/> is required.</param>
    /// <returns>These options, to chain calls.</returns>
    /// <exception cref="ArgumentException">No such method returns <typeparamref name="TResult"/>, or the selectors are invalid.</exception>
    public ProxyCaptureOptions<TInterface> Capture<TResult>(string methodName, Action<CaptureOptions<object?[], TResult>> configure)
    {
        ArgumentException.ThrowIfNullOrEmpty(methodName);
        var methods = InterfaceMethods().Where(m => m.Name == methodName && ProxyMethodCapture<TResult>.ShapeOf(m) is not null).ToList();
        if (methods.Count == 0)
        {
            throw new ArgumentException(
                $"{typeof(TInterface).Name} has no method '{methodName}' returning {typeof(TResult).Name}, Task<{typeof(TResult).Name}> or ValueTask<{typeof(TResult).Name}>.",
                nameof(methodName));
        }

        foreach (var method in methods)
        {
            Add<TResult>(method, configure);
        }

        return this;
    }

    /// <summary>Captures one method of <typeparamref name="TInterface"/>.</summary>
    /// <typeparam name="TResult">The method's return type, or T of a <see cref="Task{T}"/> / <see cref="ValueTask{T}"/> result.</typeparam>
    /// <param name="method">The interface method.</param>
    /// <param name="configure">Sets the selectors; <see cref="CaptureOptions{TIn, TOut}.Embedding"/> is required.</param>
    /// <returns>These options, to chain calls.</returns>
    /// <exception cref="ArgumentException">The method is not on the interface or does not return <typeparamref name="TResult"/>.</exception>
    public ProxyCaptureOptions<TInterface> Capture<TResult>(MethodInfo method, Action<CaptureOptions<object?[], TResult>> configure)
    {
        ArgumentNullException.ThrowIfNull(method);
        if (!InterfaceMethods().Contains(method))
        {
            throw new ArgumentException($"Method '{method.Name}' is not declared by {typeof(TInterface).Name}.", nameof(method));
        }

        if (ProxyMethodCapture<TResult>.ShapeOf(method) is null)
        {
            throw new ArgumentException($"Method '{method.Name}' returns {method.ReturnType.Name}, not {typeof(TResult).Name}.", nameof(method));
        }

        Add<TResult>(method, configure);
        return this;
    }

    internal Dictionary<MethodInfo, ProxyMethodCapture> Build(EmbeddingSet set) =>
        _captures.ToDictionary(c => c.Method, c => c.Create(set));

    private void Add<TResult>(MethodInfo method, Action<CaptureOptions<object?[], TResult>> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new CaptureOptions<object?[], TResult>();
        configure(options);

        // Validate now (missing embedding selector, bad dataset) so a mistake shows where it is made.
        CaptureRecorder<object?[], TResult>.Validate(options);
        var shape = ProxyMethodCapture<TResult>.ShapeOf(method)!.Value;
        _captures.Add((method, set => new ProxyMethodCapture<TResult>(new CaptureRecorder<object?[], TResult>(set, options, $"proxy {method.Name}"), shape)));
    }

    private static IEnumerable<MethodInfo> InterfaceMethods() =>
        typeof(TInterface).GetMethods().Concat(typeof(TInterface).GetInterfaces().SelectMany(i => i.GetMethods()));
}
