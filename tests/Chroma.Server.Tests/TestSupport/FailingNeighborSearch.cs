using Chroma.Server.Recommendations;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>
/// Makes the scoring passes of one set fail on a real server: the training-neighbour search a pass's fit builds throws
/// for sets of <paramref name="dimension"/> while <see cref="Failing"/> is set (as a fit that cannot factor its
/// covariance would); every other set, and that one once <see cref="Failing"/> is cleared, gets the server's own search.
/// </summary>
internal sealed class FailingNeighborSearch(int dimension, string message)
{
    private volatile bool _failing = true;

    /// <summary>Gets the message of the exception a failing fit throws.</summary>
    public string Message => message;

    /// <summary>Gets or sets whether fits of the set fail. The default value is <see langword="true"/>.</summary>
    public bool Failing
    {
        get => _failing;
        set => _failing = value;
    }

    /// <summary>Puts this in place of the server's registration (pass to LoggedServer.StartAsync's replaceServices).</summary>
    public void ReplaceIn(IServiceCollection services)
    {
        var real = services.Last(d => d.ServiceType == typeof(NeighborSearchFactory)).ImplementationFactory!;
        services.AddSingleton<NeighborSearchFactory>(sp =>
        {
            var inner = (NeighborSearchFactory)real(sp);
            return (rows, rowDimension, metric) => Failing && rowDimension == dimension
                ? throw new InvalidOperationException(message)
                : inner(rows, rowDimension, metric);
        });
    }
}
