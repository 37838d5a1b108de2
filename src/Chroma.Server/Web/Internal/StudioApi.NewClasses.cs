using Chroma.Protocol.V1;
using Chroma.Server.Storage;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// POST /api/promote's guard: a label that is none of the set's training classes (a typo, "seven" for "7") would start a
/// class of one record in the training data, which promotion cannot take back (probe Z, Z19). Such a promotion is
/// answered 409 naming the new labels and the set's classes, and goes ahead only when sent again with
/// <c>allowNewClasses</c>.
/// </summary>
internal sealed partial class StudioApi
{
    private const int ClassesNamed = 50;
    private const int TrainingPage = 2_000;

    private IResult? NewClasses(StoredEmbeddingSet set, ActionRequest request, IReadOnlyList<StoredRecord> records)
    {
        if (request.AllowNewClasses || records.Count == 0)
        {
            return null;
        }

        var labels = _labeling.Reviews(set, [.. records.Select(r => r.Sequence)]).Values
            .Where(r => r.Label is not null && !r.LabelPromoted)
            .Select(r => r.Label!)
            .ToHashSet(StringComparer.Ordinal);
        if (labels.Count == 0)
        {
            return null;
        }

        // A set without labeled training records has no classes to hold a label to.
        var classes = TrainingClasses(set);
        var added = labels.Where(l => !classes.Contains(l)).Order(StringComparer.Ordinal).ToList();
        if (added.Count == 0 || classes.Count == 0)
        {
            return null;
        }

        var named = classes.Order(StringComparer.Ordinal).Take(ClassesNamed).ToList();
        var list = string.Join(", ", named) + (classes.Count > named.Count ? ", …" : string.Empty);
        var which = added.Count == 1 ? $"label '{added[0]}' is" : $"labels {string.Join(", ", added.Select(a => $"'{a}'"))} are";
        return Results.Json(
            new NewClassesProblem($"{which} not one of the set's {classes.Count} training classes ({list}): promoting adds a new class to the training data", added, named),
            StudioJson.Options,
            statusCode: StatusCodes.Status409Conflict);
    }

    // The labels of the set's training records (read a page at a time, without embeddings: promotion is rare).
    private HashSet<string> TrainingClasses(StoredEmbeddingSet set)
    {
        var classes = new HashSet<string>(StringComparer.Ordinal);
        var selection = new RecordSelection(DatasetNames.Training, new Dictionary<string, string>());
        long after = 0;
        while (true)
        {
            var page = _store.GetRecords(set, new RecordQuery(selection, after, TrainingPage, IncludeEmbeddings: false));
            foreach (var stored in page.Records)
            {
                if (!string.IsNullOrEmpty(stored.Record.Label))
                {
                    classes.Add(stored.Record.Label);
                }

                after = stored.Sequence;
            }

            if (!page.HasMore || page.Records.Count == 0)
            {
                return classes;
            }
        }
    }
}
