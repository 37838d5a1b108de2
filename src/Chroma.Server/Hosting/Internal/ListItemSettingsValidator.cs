using System.Reflection;
using Chroma.Server.Configuration.Internal;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Refuses an item of a list setting that the configuration binder could not read, e.g.
/// <c>Chroma__Retention__Rules__0__MaxAge=30days</c>: the binder leaves such an item out of the list without a word (it
/// throws only for a setting outside a list), so the server would start without that retention rule and never delete
/// what the operator meant it to (probe O). Each item of every list below <see cref="ChromaServerOptions"/> is bound
/// again on its own, and a value the binder cannot convert is named as <see cref="BindingFailureMessage"/> names it; an
/// item the binder reads as nothing at all (every value empty) is named too.
/// </summary>
internal sealed class ListItemSettingsValidator : IValidateOptions<ChromaServerOptions>
{
    private const int MaxDepth = 4;
    private readonly IConfiguration _section;

    /// <summary>Creates the check of <paramref name="section"/>, the <c>Chroma</c> configuration section.</summary>
    public ListItemSettingsValidator(IConfiguration section) => _section = section;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ChromaServerOptions options)
    {
        var problems = new List<string>();
        Check(typeof(ChromaServerOptions), _section, problems, 0);
        return problems.Count > 0 ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }

    private static void Check(Type type, IConfiguration section, List<string> problems, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            var propertyType = property.PropertyType;
            if (!IsOptionsType(propertyType) && ItemType(propertyType) is null)
            {
                continue;
            }

            var child = section.GetSection(property.Name);
            if (!child.GetChildren().Any())
            {
                continue;
            }

            if (ItemType(propertyType) is { } item)
            {
                foreach (var entry in child.GetChildren())
                {
                    CheckItem(entry, item, problems);
                }
            }
            else
            {
                Check(propertyType, child, problems, depth + 1);
            }
        }
    }

    private static void CheckItem(IConfigurationSection entry, Type item, List<string> problems)
    {
        try
        {
            if (entry.Get(item) is null)
            {
                var path = entry.Path;
                problems.Add($"{path} ({path.Replace(":", "__", StringComparison.Ordinal)}) has no value the server can read; set its values or remove it");
            }
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            problems.Add(BindingFailureMessage.Describe(ex.Message));
        }
    }

    private static bool IsOptionsType(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("Chroma.Server", StringComparison.Ordinal) == true;

    // The item type of a list of option objects (IList<T>, List<T>, T[] with T an options class); null for anything else.
    private static Type? ItemType(Type type) =>
        UnknownSettingsValidator.ElementType(type) is { } item && IsOptionsType(item) ? item : null;
}
