using Chroma.Protocol.V1;

namespace Chroma.Server.Storage;

/// <summary>
/// The metric of an embedding set as the store keeps it (<c>l2</c> or <c>cosine</c> in the
/// <c>embedding_sets.metric</c> column) and as the protocol names it. A set created by a batch that names no
/// metric is an L2 set: that is what every set was before sets had a metric.
/// </summary>
internal static class SetMetrics
{
    /// <summary>The stored name of <see cref="DistanceMetric.L2"/>; sets from older databases read as this.</summary>
    public const string L2Name = "l2";

    /// <summary>The stored name of <see cref="DistanceMetric.Cosine"/>.</summary>
    public const string CosineName = "cosine";

    /// <summary>The metric a new set gets from a batch that names <paramref name="requested"/>.</summary>
    public static DistanceMetric ForNewSet(DistanceMetric requested) =>
        requested == DistanceMetric.Unspecified ? DistanceMetric.L2 : requested;

    /// <summary>The stored (and CLI) name of <paramref name="metric"/>: <c>l2</c> or <c>cosine</c>.</summary>
    public static string ToName(DistanceMetric metric) => metric switch
    {
        DistanceMetric.L2 => L2Name,
        DistanceMetric.Cosine => CosineName,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "A set's metric is l2 or cosine."),
    };

    /// <summary>The metric stored as <paramref name="name"/>; throws <see cref="InvalidDataException"/> for another name.</summary>
    public static DistanceMetric Parse(string name) => name switch
    {
        L2Name => DistanceMetric.L2,
        CosineName => DistanceMetric.Cosine,
        _ => throw new InvalidDataException($"embedding_sets.metric holds '{name}'; this server knows '{L2Name}' and '{CosineName}'."),
    };
}
