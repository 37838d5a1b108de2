using System.Data.Common;
using Chroma.Protocol.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Chroma.Server.Storage.Internal;

/// <summary>Turns a row of <see cref="Columns"/> (plus the embedding, when asked) into a <see cref="StoredRecord"/>.</summary>
internal static class StoredRecordReader
{
    /// <summary>The columns <see cref="Read"/> expects, in order; the embedding, when wanted, follows as column 10.</summary>
    public const string Columns =
        "r.sequence, r.record_id, r.dataset, r.input_uri, r.predicted_class, r.class_probabilities, r.class_names, r.label, r.metadata, r.timestamp_ms";

    /// <summary>The select list for a query, with or without the embedding.</summary>
    public static string SelectList(bool includeEmbeddings) => includeEmbeddings ? Columns + ", r.embedding" : Columns;

    /// <summary>Reads the current row.</summary>
    public static StoredRecord Read(DbDataReader reader, string setId, bool includeEmbedding)
    {
        var record = new Record
        {
            Id = reader.GetString(1),
            Dataset = reader.GetString(2),
            InputUri = TextOrEmpty(reader, 3),
            Label = TextOrEmpty(reader, 7),
            TimestampUnixMs = reader.GetInt64(9),
        };

        if (!reader.IsDBNull(4) || !reader.IsDBNull(5) || !reader.IsDBNull(6))
        {
            var inference = new Inference { PredictedClass = TextOrEmpty(reader, 4) };
            if (!reader.IsDBNull(5))
            {
                AddFloats(reader, 5, inference.ClassProbabilities);
            }

            if (!reader.IsDBNull(6))
            {
                JsonColumns.ReadArrayInto(reader.GetString(6), inference.ClassNames);
            }

            record.Inference = inference;
        }

        if (!reader.IsDBNull(8))
        {
            JsonColumns.ReadInto(reader.GetString(8), record.Metadata);
        }

        if (includeEmbedding)
        {
            AddFloats(reader, 10, record.Embedding);
        }

        return new StoredRecord { Record = record, SetId = setId, Sequence = reader.GetInt64(0) };
    }

    private static string TextOrEmpty(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? string.Empty : reader.GetString(ordinal);

    private static void AddFloats(DbDataReader reader, int ordinal, RepeatedField<float> target)
    {
        var blob = reader.GetFieldValue<byte[]>(ordinal);
        UnsafeCollectionOperations.SetCount(target, blob.Length / sizeof(float));
        FloatBlob.CopyTo(blob, UnsafeCollectionOperations.AsSpan(target));
    }
}
