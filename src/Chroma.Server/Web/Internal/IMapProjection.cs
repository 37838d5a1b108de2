namespace Chroma.Server.Web.Internal;

/// <summary>A fitted 2-D projection of a set's embeddings; every record is placed by <see cref="Project"/>.</summary>
internal interface IMapProjection
{
    /// <summary>Gets the projection's name as the page shows it (<c>PCA</c>, <c>UMAP</c>).</summary>
    string Name { get; }

    /// <summary>Gets the variance along each axis (PCA), or nothing where axes carry no variance meaning.</summary>
    IReadOnlyList<double> Variances { get; }

    /// <summary>Places one embedding on the map.</summary>
    (float X, float Y) Project(ReadOnlySpan<float> embedding);
}

/// <summary>The projections a map can be drawn with.</summary>
internal enum MapProjectionKind
{
    /// <summary>The first two principal components: linear, stable, global distances kept.</summary>
    Pca,

    /// <summary>A UMAP-style neighbour embedding: clusters and neighbourhoods kept, global distances not.</summary>
    Umap,
}

/// <summary>The first two principal components as a map projection.</summary>
internal sealed class PcaMapProjection(Cli.Report.PrincipalComponents components) : IMapProjection
{
    /// <inheritdoc />
    public string Name => "PCA";

    /// <inheritdoc />
    public IReadOnlyList<double> Variances => components.Variances;

    /// <inheritdoc />
    public (float X, float Y) Project(ReadOnlySpan<float> embedding)
    {
        var (x, y) = components.Project(embedding);
        return ((float)x, (float)y);
    }
}
