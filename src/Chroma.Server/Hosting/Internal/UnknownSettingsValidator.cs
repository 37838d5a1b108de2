using System.Collections;
using System.Reflection;
using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Refuses a setting below <c>Chroma</c> that the server does not read (e.g. <c>Chroma__Prot=1</c>, a typo of
/// <c>Chroma__Port</c>): ignored, it would start the server with a default the operator did not choose. A name is known
/// when it is a public property path of <see cref="ChromaServerOptions"/> (any case; below a list, an index; below a
/// dictionary, any key). The names of settings from before the per-feature sections are left to
/// <see cref="RenamedSettingsValidator"/>, which says where they moved. The message suggests the nearest known name.
/// </summary>
internal sealed class UnknownSettingsValidator : IValidateOptions<ChromaServerOptions>
{
    private readonly IConfiguration _section;

    /// <summary>Creates the check of <paramref name="section"/>, the <c>Chroma</c> configuration section.</summary>
    public UnknownSettingsValidator(IConfiguration section) => _section = section;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ChromaServerOptions options)
    {
        var problems = new SettingProblems(null);
        foreach (var (key, _) in _section.AsEnumerable(makePathsRelative: true).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (RenamedSettingsValidator.IsRenamed(key) || Resolve(typeof(ChromaServerOptions), key.Split(':')) is not { } unknown)
            {
                continue;
            }

            var suggestion = Nearest(unknown.Parent, unknown.Segment) is { } near
                ? $"; did you mean {SettingProblems.Root}:{unknown.Prefix}{near} ({(SettingProblems.Root + ":" + unknown.Prefix + near).Replace(":", "__", StringComparison.Ordinal)})?"
                : string.Empty;
            problems.Add(key, $"is not a setting the server reads{suggestion}");
        }

        return problems.Result;
    }

    // Null when the path names a setting (or a section holding settings); else where it stops being one.
    private static UnknownSegment? Resolve(Type type, string[] segments)
    {
        var prefix = string.Empty;
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (IsDictionary(type))
            {
                return null;
            }

            if (ElementType(type) is { } element)
            {
                if (!int.TryParse(segment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                {
                    return new UnknownSegment(type, segment, prefix);
                }

                type = element;
            }
            else
            {
                var property = Properties(type).FirstOrDefault(p => string.Equals(p.Name, segment, StringComparison.OrdinalIgnoreCase));
                if (property is null)
                {
                    return new UnknownSegment(type, segment, prefix);
                }

                type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            }

            if (IsLeaf(type) && i < segments.Length - 1)
            {
                return new UnknownSegment(type, segments[i + 1], prefix + segment + ":");
            }

            prefix += segment + ":";
        }

        return null;
    }

    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        IsLeaf(type) ? [] : type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0);

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Uri) || type == typeof(Guid);

    private static bool IsDictionary(Type type) =>
        typeof(IDictionary).IsAssignableFrom(type)
        || type.GetInterfaces().Append(type).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() is var d
            && (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)));

    /// <summary>The element type of a list or array setting (any <see cref="IEnumerable{T}"/> but a string), else null.</summary>
    internal static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }

        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return type.GetInterfaces().Append(type)
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?
            .GetGenericArguments()[0];
    }

    // The property of `type` whose name is fewest edits from `segment` (at most a third of its length, and 3).
    private static string? Nearest(Type type, string segment)
    {
        var best = (Name: (string?)null, Distance: int.MaxValue);
        foreach (var property in Properties(type))
        {
            var distance = EditDistance.Between(property.Name.ToUpperInvariant(), segment.ToUpperInvariant());
            if (distance < best.Distance)
            {
                best = (property.Name, distance);
            }
        }

        return best.Distance <= Math.Min(3, Math.Max(1, segment.Length / 3)) ? best.Name : null;
    }

    private sealed record UnknownSegment(Type Parent, string Segment, string Prefix);
}
