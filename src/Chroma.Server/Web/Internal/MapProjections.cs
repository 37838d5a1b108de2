using System.Collections.Concurrent;
using Chroma.Server.Labeling;
using Chroma.Server.Storage;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// The 2-D embedding maps of each set, computed by the server, one per <see cref="MapProjectionKind"/>: principal
/// components or a UMAP-style <see cref="NeighborEmbedding"/>, fitted on a sample (training records first), every
/// record projected once and kept in memory (about 40 bytes a point). A map is built on its first read.
/// Each read brings a set's map up to date incrementally: only records stored since the last read are
/// projected, tombstones are dropped, and the components are refitted (all points re-projected, a new
/// <see cref="SetMap.Version"/>) when the set has doubled since the last fit while that fit saw fewer rows
/// than the sample holds.
/// </summary>
internal sealed class MapProjections
{
    /// <summary>Most rows the components are fitted on.</summary>
    public const int FitSample = 2_000;

    private const int PageSize = 2_000;

    private readonly IRecordStore _store;
    private readonly LabelingService _labeling;
    private readonly ConcurrentDictionary<(long Set, MapProjectionKind Kind), SetMap> _maps = new();

    /// <summary>Creates the cache over <paramref name="store"/>; a production record's label is the one people gave it (<paramref name="labeling"/>).</summary>
    public MapProjections(IRecordStore store, LabelingService labeling)
    {
        _store = store;
        _labeling = labeling;
    }

    /// <summary>The set's map in projection <paramref name="kind"/>, brought up to date with the store.</summary>
    public MapSnapshot Read(StoredEmbeddingSet set, MapProjectionKind kind = MapProjectionKind.Pca)
    {
        ArgumentNullException.ThrowIfNull(set);
        var map = _maps.GetOrAdd((set.Key, kind), _ => new SetMap());
        lock (map)
        {
            Update(set, kind, map);
            return map.Snapshot();
        }
    }

    /// <summary>The highest sequence the set's map in <paramref name="kind"/> has projected; 0 when it has none yet.</summary>
    public long ProjectedThrough(StoredEmbeddingSet set, MapProjectionKind kind)
    {
        ArgumentNullException.ThrowIfNull(set);
        if (!_maps.TryGetValue((set.Key, kind), out var map))
        {
            return 0;
        }

        lock (map)
        {
            return map.ThroughSequence;
        }
    }

    /// <summary>Brings the maps of <paramref name="set"/> a page has asked for before up to date (else does nothing).</summary>
    public void RefreshIfTracked(StoredEmbeddingSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        foreach (var kind in Enum.GetValues<MapProjectionKind>())
        {
            if (_maps.TryGetValue((set.Key, kind), out var map))
            {
                lock (map)
                {
                    Update(set, kind, map);
                }
            }
        }
    }

    /// <summary>Re-reads the labels and classes of <paramref name="sequences"/> (after a label or tag action).</summary>
    public void Refresh(StoredEmbeddingSet set, IReadOnlyList<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(sequences);
        var maps = Enum.GetValues<MapProjectionKind>().Select(kind => _maps.GetValueOrDefault((set.Key, kind))).OfType<SetMap>().ToList();
        if (maps.Count == 0)
        {
            return;
        }

        var records = _store.GetRecordsBySequence(set, sequences, includeEmbeddings: false);
        var reviews = _labeling.Reviews(set, sequences);
        foreach (var map in maps)
        {
            lock (map)
            {
                foreach (var record in records)
                {
                    map.Relabel(record.Sequence, Label(record, reviews), record.Record.Inference?.PredictedClass);
                }
            }
        }
    }

    private void Update(StoredEmbeddingSet set, MapProjectionKind kind, SetMap map)
    {
        var live = _store.CountRecords(set, RecordSelection.All);
        if (map.Projection is null || map.NeedsRefit(live))
        {
            var sample = Sample(set);
            if (sample.Count == 0)
            {
                return;
            }

            IMapProjection projection = kind == MapProjectionKind.Umap
                ? NeighborEmbedding.Fit(sample)
                : new PcaMapProjection(Cli.Report.PrincipalComponents.Fit(sample));
            map.Reset(projection, sample.Count, live);
        }

        var after = map.ThroughSequence;
        while (true)
        {
            var page = _store.GetRecords(set, new RecordQuery(RecordSelection.All, after, PageSize, IncludeEmbeddings: true));
            var reviews = _labeling.Reviews(set, [.. page.Records.Select(r => r.Sequence)]);
            foreach (var stored in page.Records)
            {
                var record = stored.Record;
                var (x, y) = map.Projection!.Project(Google.Protobuf.UnsafeCollectionOperations.AsSpan(record.Embedding));
                map.Add(stored.Sequence, x, y, record.Dataset, Label(stored, reviews), record.Inference?.PredictedClass);
                after = stored.Sequence;
            }

            if (!page.HasMore || page.Records.Count == 0)
            {
                break;
            }
        }

        map.ThroughSequence = Math.Max(map.ThroughSequence, after);
        var deleted = _store.ReadDeletedSequences(set, map.ThroughSequence);
        if (deleted.Count != map.DeletedSeen)
        {
            map.Remove(deleted);
        }
    }

    // A training record carries its label; a production record gets the one a reviewer gave it.
    private static string? Label(Protocol.V1.StoredRecord stored, IReadOnlyDictionary<long, RecordReview> reviews) =>
        stored.Record.Label is { Length: > 0 } label ? label : reviews.GetValueOrDefault(stored.Sequence)?.Label;

    // Training rows describe the space the model was fitted in; production fills up a sample without them.
    private List<float[]> Sample(StoredEmbeddingSet set)
    {
        var rows = new List<float[]>(FitSample);
        foreach (var selection in new[] { new RecordSelection(DatasetNames.Training, RecordSelection.All.Metadata), RecordSelection.All })
        {
            if (rows.Count >= FitSample / 2)
            {
                break;
            }

            var page = _store.GetRecords(set, new RecordQuery(selection, 0, FitSample - rows.Count, IncludeEmbeddings: true));
            rows.AddRange(page.Records.Select(r => r.Record.Embedding.ToArray()));
        }

        return rows;
    }
}
