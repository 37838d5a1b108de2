namespace Chroma.Server.Labeling;

/// <summary>Where a record stands in human review (mirrors <c>chroma.v1.ReviewState</c>; stored as its number).</summary>
internal enum ReviewState
{
    /// <summary>Nobody reviewed it; rankings show it.</summary>
    Unreviewed = 0,

    /// <summary>Looked at (a recorded label implies it); rankings leave it out by default.</summary>
    Reviewed = 1,

    /// <summary>Looked at and judged not worth acting on; rankings leave it out by default.</summary>
    Dismissed = 2,
}
