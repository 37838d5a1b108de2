namespace Chroma.Server.Services.Internal;

/// <summary>The call a page token belongs to, written into the token so that another call refuses it by name.</summary>
internal enum PageTokenKind : byte
{
    /// <summary>GetRecords: pages in sequence order.</summary>
    GetRecords = 1,

    /// <summary>GetLabeledRecords: labeled records in sequence order.</summary>
    GetLabeledRecords = 2,

    /// <summary>GetReviewHistory: audit events in event order.</summary>
    GetReviewHistory = 3,

    /// <summary>GetRecommendations: pages of one ranking.</summary>
    GetRecommendations = 4,

    /// <summary>ListSets: sets in set_id order.</summary>
    ListSets = 5,
}
