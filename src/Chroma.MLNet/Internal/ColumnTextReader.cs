using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Chroma.MLNet.Internal;

/// <summary>
/// Reads a label-like column of the current row as text: text as is, numbers in invariant culture, keys through their
/// key values (the original labels) when the column has them, else as the zero-based class index.
/// </summary>
internal static class ColumnTextReader
{
    /// <summary>A reader for <paramref name="column"/>, or <see langword="null"/> when its type cannot be shown as text.</summary>
    public static Func<string?>? Create(DataViewRow row, DataViewSchema.Column column)
    {
        switch (column.Type)
        {
            case TextDataViewType:
                return Format<ReadOnlyMemory<char>>(row, column, static v => v.ToString());
            case KeyDataViewType key when key.RawType == typeof(uint):
                var names = KeyNames(column);
                return Format<uint>(row, column, v => v == 0 ? null : ClassName(names, v - 1));
            case BooleanDataViewType:
                return Format<bool>(row, column, static v => v ? "true" : "false");
            case NumberDataViewType number:
                return number.RawType switch
                {
                    var t when t == typeof(float) => Format<float>(row, column, static v => v.ToString(CultureInfo.InvariantCulture)),
                    var t when t == typeof(double) => Format<double>(row, column, static v => v.ToString(CultureInfo.InvariantCulture)),
                    var t when t == typeof(int) => Format<int>(row, column, static v => v.ToString(CultureInfo.InvariantCulture)),
                    var t when t == typeof(long) => Format<long>(row, column, static v => v.ToString(CultureInfo.InvariantCulture)),
                    var t when t == typeof(uint) => Format<uint>(row, column, static v => v.ToString(CultureInfo.InvariantCulture)),
                    _ => null,
                };
            default:
                return null;
        }
    }

    /// <summary>The key values of a key column as text (index = key - 1), or <see langword="null"/> when it has none.</summary>
    public static string[]? KeyNames(DataViewSchema.Column column)
    {
        if (!column.HasKeyValues())
        {
            return null;
        }

        // "KeyValues" is the annotation kind ML.NET keeps the original labels under.
        var itemType = ((VectorDataViewType)column.Annotations.Schema["KeyValues"].Type).ItemType.RawType;
        return itemType switch
        {
            var t when t == typeof(ReadOnlyMemory<char>) => Names<ReadOnlyMemory<char>>(column, static v => v.ToString()),
            var t when t == typeof(float) => Names<float>(column, static v => v.ToString(CultureInfo.InvariantCulture)),
            var t when t == typeof(double) => Names<double>(column, static v => v.ToString(CultureInfo.InvariantCulture)),
            var t when t == typeof(int) => Names<int>(column, static v => v.ToString(CultureInfo.InvariantCulture)),
            var t when t == typeof(uint) => Names<uint>(column, static v => v.ToString(CultureInfo.InvariantCulture)),
            var t when t == typeof(long) => Names<long>(column, static v => v.ToString(CultureInfo.InvariantCulture)),
            var t when t == typeof(bool) => Names<bool>(column, static v => v ? "true" : "false"),
            _ => null,
        };
    }

    /// <summary>The name of class <paramref name="index"/>: its key value when known, else the index itself.</summary>
    public static string ClassName(string[]? names, uint index) =>
        names is not null && index < names.Length ? names[index] : index.ToString(CultureInfo.InvariantCulture);

    private static Func<string?> Format<T>(DataViewRow row, DataViewSchema.Column column, Func<T, string?> format)
    {
        var getter = row.GetGetter<T>(column);
        T value = default!;
        return () =>
        {
            getter(ref value);
            return format(value);
        };
    }

    private static string[] Names<T>(DataViewSchema.Column column, Func<T, string> format)
    {
        VBuffer<T> values = default;
        column.GetKeyValues(ref values);
        return [.. values.DenseValues().Select(format)];
    }
}
