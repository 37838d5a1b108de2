using System.Data.Common;

namespace Chroma.Server.Storage.Internal;

/// <summary>Reads a <see cref="ScorableRecord"/> from the <see cref="Columns"/> of a row (every provider selects the same).</summary>
internal static class ScorableRowReader
{
    /// <summary>The columns <see cref="Read"/> expects, in order (alias <c>r</c> for records).</summary>
    public const string Columns =
        "r.sequence, r.record_id, r.dataset, r.embedding, r.predicted_class, r.class_probabilities";

    /// <summary>Reads the record whose columns start at <paramref name="first"/>.</summary>
    public static ScorableRecord Read(DbDataReader reader, int first)
    {
        var embedding = ReadFloats(reader, first + 3)!;
        return new ScorableRecord(
            reader.GetInt64(first),
            reader.GetString(first + 1),
            reader.GetString(first + 2),
            embedding,
            reader.IsDBNull(first + 4) ? null : reader.GetString(first + 4),
            ReadFloats(reader, first + 5));
    }

    private static float[]? ReadFloats(DbDataReader reader, int ordinal)
    {
        if (reader.IsDBNull(ordinal))
        {
            return null;
        }

        var blob = reader.GetFieldValue<byte[]>(ordinal);
        var values = new float[blob.Length / sizeof(float)];
        FloatBlob.CopyTo(blob, values);
        return values;
    }
}
