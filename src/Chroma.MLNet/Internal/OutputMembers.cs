using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using Microsoft.ML.Data;

namespace Chroma.MLNet.Internal;

/// <summary>
/// Finds the public field or property of <typeparamref name="T"/> that ML.NET maps to a column (by
/// <see cref="ColumnNameAttribute"/> or by name) and compiles a getter for it, so defaults cost no reflection per call.
/// </summary>
internal static class OutputMembers<T>
{
    public static MemberInfo? Find(string column) =>
        typeof(T).GetMembers(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m is FieldInfo or PropertyInfo { CanRead: true })
            .FirstOrDefault(m => (ColumnName(m) ?? m.Name) == column);

    // ColumnNameAttribute keeps its name internal; its constructor argument is the public record of it.
    private static string? ColumnName(MemberInfo member) =>
        member.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType == typeof(ColumnNameAttribute))?.ConstructorArguments[0].Value as string;

    public static Type? TypeOf(string column) => Find(column) switch
    {
        FieldInfo field => field.FieldType,
        PropertyInfo property => property.PropertyType,
        _ => null,
    };

    /// <summary>A getter for <paramref name="column"/> when its member has type <typeparamref name="TMember"/>.</summary>
    public static Func<T, TMember>? Getter<TMember>(string column)
    {
        var member = Find(column);
        if (member is null || TypeOf(column) != typeof(TMember))
        {
            return null;
        }

        var parameter = Expression.Parameter(typeof(T), "output");
        return Expression.Lambda<Func<T, TMember>>(Expression.MakeMemberAccess(parameter, member), parameter).Compile();
    }

    /// <summary>
    /// The column as text: strings as they are, <see cref="uint"/> keys through <paramref name="keyNames"/> (or as the
    /// zero-based class index), other values in invariant culture.
    /// </summary>
    public static Func<T, string?>? Text(string column, string[]? keyNames)
    {
        if (Getter<string>(column) is { } text)
        {
            return text;
        }

        if (Getter<uint>(column) is { } key)
        {
            return output =>
            {
                var value = key(output);
                return value == 0 ? null : ColumnTextReader.ClassName(keyNames, value - 1);
            };
        }

        if (Find(column) is null)
        {
            return null;
        }

        var parameter = Expression.Parameter(typeof(T), "output");
        var boxed = Expression.Convert(Expression.MakeMemberAccess(parameter, Find(column)!), typeof(object));
        var getter = Expression.Lambda<Func<T, object?>>(boxed, parameter).Compile();
        return output => Convert.ToString(getter(output), CultureInfo.InvariantCulture);
    }
}
