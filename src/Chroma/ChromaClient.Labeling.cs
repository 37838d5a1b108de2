using System.Runtime.CompilerServices;
using Chroma.Protocol.V1;

namespace Chroma;

public sealed partial class ChromaClient
{
    private const int LabelingPageSize = 1000;

    /// <summary>
    /// Records labels on production records (label, reviewer, optional note; the server stamps the time).
    /// Each label also marks its record reviewed, so recommendations leave it out. Returns how many records changed.
    /// </summary>
    /// <exception cref="ChromaException">
    /// NotFound for an unknown set or record; InvalidArgument for a missing reviewer or label;
    /// FailedPrecondition for a training record.
    /// </exception>
    public async Task<long> LabelAsync(string setId, IEnumerable<RecordLabel> labels, string reviewer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var request = new LabelRecordsRequest { SetId = setId ?? string.Empty, Reviewer = reviewer ?? string.Empty };
        request.Labels.AddRange(labels.Select(l => new Protocol.V1.RecordLabel { RecordId = l.RecordId ?? string.Empty, Label = l.Label ?? string.Empty, Note = l.Note ?? string.Empty }));
        var response = await CallAsync("LabelRecords", setId, o => _labeling.LabelRecordsAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Updated;
    }

    /// <summary>Marks production records reviewed or dismissed (or back to unreviewed); returns how many changed.</summary>
    /// <exception cref="ChromaException">As <see cref="LabelAsync"/>.</exception>
    public async Task<long> SetReviewStateAsync(
        string setId, IEnumerable<string> ids, ReviewState state, string reviewer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var request = new SetReviewStateRequest { SetId = setId ?? string.Empty, State = (Protocol.V1.ReviewState)(int)state, Reviewer = reviewer ?? string.Empty };
        request.Ids.AddRange(ids);
        var response = await CallAsync("SetReviewState", setId, o => _labeling.SetReviewStateAsync(request, o), cancellationToken).ConfigureAwait(false);
        return response.Updated;
    }

    /// <summary>
    /// Copies labeled production records into the training dataset with their reviewer's label, so the
    /// server's next fit uses them (the audit trail keeps who promoted and when). With no ids, every
    /// labeled record whose current label is not in training yet (up to 1,000 per call).
    /// </summary>
    /// <exception cref="ChromaException">As <see cref="LabelAsync"/>; FailedPrecondition for a record without a label.</exception>
    public async Task<LabelPromotion> PromoteLabelsAsync(
        string setId, string promotedBy, IEnumerable<string>? ids = null, CancellationToken cancellationToken = default)
    {
        var request = new PromoteLabelsRequest { SetId = setId ?? string.Empty, PromotedBy = promotedBy ?? string.Empty };
        if (ids is not null)
        {
            request.Ids.AddRange(ids);
        }

        var response = await CallAsync("PromoteLabels", setId, o => _labeling.PromoteLabelsAsync(request, o), cancellationToken).ConfigureAwait(false);
        return new LabelPromotion(response.Promoted.ToDictionary(p => p.RecordId, p => p.TrainingRecordId, StringComparer.Ordinal), response.AlreadyPromoted);
    }

    /// <summary>
    /// Every labeled production record of a set with its review (label, reviewer, note, times,
    /// promotion), in ingest order, embeddings included unless <paramref name="includeEmbeddings"/> is
    /// false: the labeled set ready for export or for training (see <see cref="LabeledData"/>).
    /// </summary>
    /// <exception cref="ChromaException">NotFound for an unknown set.</exception>
    public async IAsyncEnumerable<ChromaRecord> GetLabeledRecordsAsync(
        string setId, bool includeEmbeddings = true, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var request = new GetLabeledRecordsRequest { SetId = setId ?? string.Empty, PageSize = LabelingPageSize, IncludeEmbeddings = includeEmbeddings };
        do
        {
            var response = await CallAsync("GetLabeledRecords", setId, o => _labeling.GetLabeledRecordsAsync(request, o), cancellationToken).ConfigureAwait(false);
            foreach (var record in response.Records)
            {
                yield return new ChromaRecord(record);
            }

            request.PageToken = response.NextPageToken;
        }
        while (request.PageToken.Length > 0);
    }

    /// <summary>The review audit trail of a set, or of one record when <paramref name="recordId"/> is given, oldest first.</summary>
    /// <exception cref="ChromaException">NotFound for an unknown set.</exception>
    public async Task<IReadOnlyList<ReviewEvent>> GetReviewHistoryAsync(string setId, string? recordId = null, CancellationToken cancellationToken = default)
    {
        var request = new GetReviewHistoryRequest { SetId = setId ?? string.Empty, RecordId = recordId ?? string.Empty, PageSize = LabelingPageSize };
        var events = new List<ReviewEvent>();
        do
        {
            var response = await CallAsync("GetReviewHistory", setId, o => _labeling.GetReviewHistoryAsync(request, o), cancellationToken).ConfigureAwait(false);
            events.AddRange(response.Events.Select(e => new ReviewEvent(
                e.RecordId, e.Action, e.Actor, DateTimeOffset.FromUnixTimeMilliseconds(e.UnixMs), e.Detail.Length == 0 ? null : e.Detail)));
            request.PageToken = response.NextPageToken;
        }
        while (request.PageToken.Length > 0);

        return events;
    }
}
