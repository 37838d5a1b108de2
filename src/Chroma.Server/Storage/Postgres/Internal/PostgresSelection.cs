using System.Text;
using Chroma.Server.Storage.Internal;
using Npgsql;
using NpgsqlTypes;

namespace Chroma.Server.Storage.Postgres.Internal;

/// <summary>The WHERE clause of a <see cref="RecordSelection"/> over live records of one set (alias <c>r</c>), with positional parameters.</summary>
internal static class PostgresSelection
{
    /// <summary>Appends the conditions to <paramref name="sql"/> and their parameters to <paramref name="command"/>.</summary>
    public static void AppendWhere(StringBuilder sql, NpgsqlCommand command, long setKey, RecordSelection selection)
    {
        sql.Append(" WHERE r.set_key = ").Append(Add(command, setKey)).Append(" AND NOT r.deleted");
        if (selection.Dataset is not null)
        {
            sql.Append(" AND r.dataset = ").Append(Add(command, selection.Dataset));
        }

        if (selection.Metadata.Count > 0)
        {
            // Containment: every entry must be present with exactly this string value (served by a GIN
            // index should one be added; the set's rows are the candidates either way).
            var json = JsonColumns.Write(selection.Metadata)!;
            sql.Append(" AND r.metadata @> ").Append(Add(command, json, NpgsqlDbType.Jsonb));
        }
    }

    /// <summary>Adds a positional parameter; returns its placeholder (<c>$n</c>).</summary>
    public static string Add(NpgsqlCommand command, object value, NpgsqlDbType? type = null)
    {
        var parameter = new NpgsqlParameter { Value = value };
        if (type is { } t)
        {
            parameter.NpgsqlDbType = t;
        }

        command.Parameters.Add(parameter);
        return "$" + command.Parameters.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
