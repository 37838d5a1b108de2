namespace Chroma;

/// <summary>Where a production record stands in human review. Recommendations leave out reviewed and dismissed records by default.</summary>
public enum ReviewState
{
    /// <summary>Nobody reviewed it.</summary>
    Unreviewed = 0,

    /// <summary>Looked at (recording a label marks a record reviewed too).</summary>
    Reviewed = 1,

    /// <summary>Looked at and judged not worth acting on.</summary>
    Dismissed = 2,
}
