using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Storage.Sqlite.Internal;

/// <summary>The WHERE clause of a <see cref="RecordSelection"/> over live records of one set (alias <c>r</c>).</summary>
internal static class RecordSelectionSql
{
    /// <summary>Appends the conditions to <paramref name="sql"/> and their parameters to <paramref name="command"/>.</summary>
    public static void AppendWhere(StringBuilder sql, SqliteCommand command, long setKey, RecordSelection selection)
    {
        sql.Append(" WHERE r.set_key = $set AND r.deleted = 0");
        command.Parameters.AddWithValue("$set", setKey);
        if (selection.Dataset is not null)
        {
            sql.Append(" AND r.dataset = $dataset");
            command.Parameters.AddWithValue("$dataset", selection.Dataset);
        }

        var n = 0;
        foreach (var (key, value) in selection.Metadata)
        {
            // json_each instead of json_extract: keys may hold any character, and a JSON path
            // built from a key would need escaping that SQLite does not offer.
            var k = string.Create(CultureInfo.InvariantCulture, $"$mk{n}");
            var v = string.Create(CultureInfo.InvariantCulture, $"$mv{n}");
            sql.Append(CultureInfo.InvariantCulture,
                $" AND EXISTS (SELECT 1 FROM json_each(r.metadata) AS m WHERE m.key = {k} AND m.value = {v})");
            command.Parameters.AddWithValue(k, key);
            command.Parameters.AddWithValue(v, value);
            n++;
        }
    }
}
