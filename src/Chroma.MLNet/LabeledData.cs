using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma;

/// <summary>
/// Turns labeled records (<see cref="ChromaClient.GetLabeledRecordsAsync"/>) into training data:
/// an ML.NET <see cref="IDataView"/> with a <c>Features</c> vector column (the embedding) and a
/// <c>Label</c> text column (the reviewer's label).
/// </summary>
public static class LabeledData
{
    /// <summary>The name of the embedding column.</summary>
    public const string FeaturesColumn = "Features";

    /// <summary>The name of the label column.</summary>
    public const string LabelColumn = "Label";

    /// <summary>
    /// An <see cref="IDataView"/> of the records that carry a reviewer's label (others, such as training records, are
    /// skipped): <c>Features</c> (float vector of the embedding's length) and <c>Label</c> (text).
    /// Map the label to a key with <c>mlContext.Transforms.Conversion.MapValueToKey("Label")</c> before a trainer.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A labeled record has no embedding (read them with <c>GetLabeledRecordsAsync(setId, includeEmbeddings: true)</c>),
    /// or the embeddings differ in length.
    /// </exception>
    public static IDataView ToDataView(this IEnumerable<ChromaRecord> records, MLContext mlContext)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(mlContext);
        var labeled = records.Where(r => r.Review?.Label is not null).ToList();
        if (labeled.Count(r => r.Embedding.IsEmpty) is > 0 and var missing)
        {
            throw new ArgumentException(
                $"records: {missing} of {labeled.Count} labeled records carry no embedding (read them with GetLabeledRecordsAsync(setId, includeEmbeddings: true)).", nameof(records));
        }

        var rows = labeled
            .Select(r => new LabeledRow { Features = r.Embedding.ToArray(), Label = r.Review!.Label! })
            .ToList();
        var dimension = rows.Count == 0 ? 1 : rows[0].Features.Length;
        if (rows.Any(r => r.Features.Length != dimension))
        {
            throw new ArgumentException("records: every embedding must have the same length.", nameof(records));
        }

        var schema = SchemaDefinition.Create(typeof(LabeledRow));
        schema[nameof(LabeledRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return mlContext.Data.LoadFromEnumerable(rows, schema);
    }

    private sealed class LabeledRow
    {
        public float[] Features { get; set; } = [];

        public string Label { get; set; } = string.Empty;
    }
}
