using System.Reflection;
using Chroma.Interception.Internal;

namespace Chroma;

/// <summary>
/// Wraps any object behind an interface so chosen methods are logged to an <see cref="EmbeddingSet"/>, using
/// <see cref="DispatchProxy"/>. Every call reaches the wrapped object; results and exceptions (the same exception
/// object) come back unchanged; capture problems are counted, never thrown.
/// </summary>
public static class ChromaProxy
{
    /// <summary>Creates a proxy of <typeparamref name="TInterface"/> over <paramref name="inner"/>.</summary>
    /// <typeparam name="TInterface">An interface type.</typeparam>
    /// <param name="inner">The object to forward to.</param>
    /// <param name="set">Where records go.</param>
    /// <param name="configure">Chooses the methods to capture and their selectors.</param>
    /// <returns>
    /// The proxy; or <paramref name="inner"/> itself when no method was chosen, since a layer that would do nothing is
    /// not added.
    /// </returns>
    /// <exception cref="ArgumentException"><typeparamref name="TInterface"/> is not an interface, or a choice is invalid.</exception>
    public static TInterface Create<TInterface>(TInterface inner, EmbeddingSet set, Action<ProxyCaptureOptions<TInterface>> configure)
        where TInterface : class
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(configure);
        if (!typeof(TInterface).IsInterface)
        {
            throw new ArgumentException($"{typeof(TInterface).Name} must be an interface: DispatchProxy can only implement interfaces.", nameof(TInterface));
        }

        var options = new ProxyCaptureOptions<TInterface>();
        configure(options);
        if (options.Count == 0)
        {
            return inner;
        }

        var proxy = DispatchProxy.Create<TInterface, CapturingDispatchProxy>();
        ((CapturingDispatchProxy)(object)proxy).Initialize(inner, options.Build(set));
        return proxy;
    }
}
