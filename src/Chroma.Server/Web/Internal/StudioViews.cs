namespace Chroma.Server.Web.Internal;

/// <summary>Whether a key is needed and whether the browser is signed in.</summary>
internal sealed record SessionState(bool KeyRequired, bool SignedIn);

/// <summary>The sign-in form.</summary>
internal sealed record SignInRequest(string? Key);

/// <summary>One set as the Sets view shows it.</summary>
internal sealed record SetView(
    string SetId,
    string Model,
    string ModelVersion,
    string Layer,
    int Dimension,
    string Metric,
    long Total,
    IReadOnlyList<DatasetView> Datasets,
    long CreatedUnixMs,
    long UpdatedUnixMs,
    IReadOnlyList<DriftView> Drift,
    ScoringView Scoring);

/// <summary>Live records of one dataset.</summary>
internal sealed record DatasetView(string Name, long Count);

/// <summary>One drift measurement.</summary>
internal sealed record DriftView(long ComputedUnixMs, double Mmd2, double PValue, int ProductionSample);

/// <summary>How fresh the set's scores are.</summary>
internal sealed record ScoringView(long ComputedUnixMs, long Scored, long Pending, long Revision, string? Problem)
{
    /// <summary>
    /// Gets whether the ranking is stale: read back after a start (empty until event 301) or scored against training
    /// data that has changed since (served until the refit replaces it). An empty stale ranking is not "never scored".
    /// </summary>
    public bool Stale { get; init; }

    /// <summary>Gets why the set's last scoring pass failed, or null (see <see cref="FailureView"/>).</summary>
    public FailureView? Failure { get; init; }
}

/// <summary>
/// Why the set's last scoring pass failed (GetRecommendations' <c>scoring_failure</c>): the ranking shown is the last
/// one that succeeded, and records stored since wait for a pass that succeeds.
/// </summary>
internal sealed record FailureView(string Message, long FailedUnixMs, int ConsecutiveFailures)
{
    /// <summary>The view of <paramref name="failure"/>, or null when the last pass did not fail.</summary>
    public static FailureView? Of(Recommendations.Scheduling.ScoringFailure? failure) =>
        failure is null ? null : new(failure.Message, failure.FailedAt.ToUnixTimeMilliseconds(), failure.ConsecutiveFailures);
}

/// <summary>A record with what the server knows of it.</summary>
internal sealed record RecordView(
    long Sequence,
    string Id,
    string Dataset,
    string? Label,
    string? PredictedClass,
    IReadOnlyList<ProbabilityView> Probabilities,
    string? InputUri,
    long TimestampUnixMs,
    IReadOnlyDictionary<string, string> Metadata,
    double? Score,
    IReadOnlyList<SignalView> Signals,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<NeighborView> Neighbors)
{
    /// <summary>Gets the review state (unreviewed, reviewed, dismissed).</summary>
    public string ReviewState { get; init; } = "unreviewed";

    /// <summary>Gets the label a reviewer gave, or null.</summary>
    public string? ReviewLabel { get; init; }

    /// <summary>Gets the note given with the label, or null.</summary>
    public string? ReviewNote { get; init; }

    /// <summary>Gets who gave the label, or null.</summary>
    public string? LabeledBy { get; init; }

    /// <summary>Gets when the label was given (Unix ms), or 0.</summary>
    public long LabeledUnixMs { get; init; }

    /// <summary>Gets who set the review state, or null.</summary>
    public string? ReviewedBy { get; init; }

    /// <summary>Gets when the review state was set (Unix ms), or 0.</summary>
    public long ReviewedUnixMs { get; init; }

    /// <summary>Gets the id of the training copy its label was promoted to, or null.</summary>
    public string? PromotedRecordId { get; init; }

    /// <summary>Gets an image of the input (a data URI from the metadata, or an <c>/api/input</c> URL), or null.</summary>
    public string? Preview { get; init; }

    /// <summary>Gets when its delete is committed (Unix ms) while the delete waits out the undo window, or null.</summary>
    public long? DeletedAtUnixMs { get; init; }
}

/// <summary>One class probability.</summary>
internal sealed record ProbabilityView(string Name, float Probability);

/// <summary>One signal of a scored record.</summary>
internal sealed record SignalView(string Signal, double Value, double Percentile, double PValue);

/// <summary>A nearest training neighbour.</summary>
internal sealed record NeighborView(long Sequence, string Id, string? Label, string? InputUri, float Distance)
{
    /// <summary>Gets an image of its input, or null.</summary>
    public string? Preview { get; init; }
}

/// <summary>One entry of the review queue.</summary>
internal sealed record QueueItemView(
    long Sequence,
    string Id,
    string Dataset,
    string? PredictedClass,
    string? Label,
    string? InputUri,
    IReadOnlyDictionary<string, string> Metadata,
    double Score,
    IReadOnlyList<SignalView> Signals,
    IReadOnlyList<string> Reasons,
    IReadOnlyList<string> DuplicateIds)
{
    /// <summary>Gets an image of the input, or null.</summary>
    public string? Preview { get; init; }

    /// <summary>Gets the 1-based position in plain score order (diversity may serve it elsewhere).</summary>
    public int ScoreRank { get; init; }

    /// <summary>Gets how many records collapsed into this one, all of them (<c>DuplicateIds</c> lists only the first ones).</summary>
    public int DuplicateCount { get; init; }

    /// <summary>Gets the review state (unreviewed, reviewed, dismissed): the latter two appear with reviewed=include.</summary>
    public string ReviewState { get; init; } = "unreviewed";
}

/// <summary>
/// A page of the review queue. <paramref name="Total"/> is how many entries the ranking holds as far as it has been
/// ranked (exact once <paramref name="HasMore"/> is false, a lower bound before: the ranking is built only as deep as
/// pages ask for); <paramref name="HasMore"/> says whether another page follows.
/// </summary>
internal sealed record QueueView(long ComputedUnixMs, long Scored, long Total, bool HasMore, string? Problem, IReadOnlyList<QueueItemView> Items)
{
    /// <summary>Gets the entries skipped before this page.</summary>
    public int Offset { get; init; }

    /// <summary>Gets how many records of the set are reviewed or dismissed (left out unless reviewed=include).</summary>
    public int Reviewed { get; init; }

    /// <summary>Gets whether the ranking is stale (see <see cref="ScoringView.Stale"/>): the page fills in or changes when it is back.</summary>
    public bool Stale { get; init; }

    /// <summary>Gets why the set's last scoring pass failed, or null (see <see cref="FailureView"/>).</summary>
    public FailureView? Failure { get; init; }
}

/// <summary>
/// Records to act on, by id or by sequence (a map selection), with what the action needs: tags to merge,
/// a label, or a review state (<c>reviewed</c>, <c>dismissed</c>, <c>unreviewed</c>).
/// </summary>
internal sealed record ActionRequest(
    string? Set,
    IReadOnlyList<string>? Ids,
    IReadOnlyList<long>? Sequences,
    IReadOnlyDictionary<string, string>? Tags,
    string? Label = null,
    string? State = null,
    string? Note = null,
    bool AllowNewClasses = false);

/// <summary>How many records an action changed, and how many it left alone (training records cannot be labeled or reviewed).</summary>
internal sealed record ActionResult(long Changed, long Skipped = 0)
{
    /// <summary>Gets how many of the named records the set no longer holds (deleted meanwhile): nothing was done to them.</summary>
    public long Missing { get; init; }

    /// <summary>Gets how many records a promotion found already in training under their current label.</summary>
    public long Already { get; init; }

    /// <summary>Gets the token that undoes the action (POST /api/undo), or null when it cannot be undone.</summary>
    public string? Undo { get; init; }

    /// <summary>Gets how many seconds the undo token is good for.</summary>
    public double? UndoSeconds { get; init; }
}

/// <summary>
/// A promotion refused because labels to promote are none of the set's training classes (409): <paramref name="NewClasses"/>
/// would each start a class of their own; <paramref name="Classes"/> are the set's (the first 50).
/// </summary>
internal sealed record NewClassesProblem(string Error, IReadOnlyList<string> NewClasses, IReadOnlyList<string> Classes);

/// <summary>An undo request.</summary>
internal sealed record UndoRequest(string? Token);

/// <summary>
/// What an undo did: <c>tag</c> (previous values restored), <c>delete</c> (records kept) or <c>review</c> (labels and
/// review states as they were).
/// </summary>
internal sealed record UndoResult(string Undone, long Records)
{
    /// <summary>Gets the set and sequences whose reviews were put back, for the map to refresh; not sent.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public (Storage.StoredEmbeddingSet Set, long[] Sequences)? Restored { get; init; }
}
