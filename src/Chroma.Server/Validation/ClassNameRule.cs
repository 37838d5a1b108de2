using System.Globalization;
using System.Text;
using Chroma.Server.Validation.Internal;

namespace Chroma.Server.Validation;

/// <summary>
/// The rule for text that names a class: a record's label, a reviewer's label (LabelRecords), an inference's
/// predicted_class and class_names. A label becomes a class name when training is fitted or a label promoted, so two
/// spellings that look the same would split one class in two (" 7 " and "7", "\u200B7" and "7"), and control
/// characters would be exported raw into files and terminals. Such a name has no leading or trailing white space or
/// invisible format character (Unicode categories Zs and Cf and other white space), no control character (Cc)
/// anywhere, and is not empty where a name is required; class_names holds each name once. Text stored before the
/// rule is kept as it is.
/// </summary>
internal static class ClassNameRule
{
    [ThreadStatic]
    private static HashSet<string>? t_seen;

    /// <summary>True when <paramref name="name"/> (non-empty) follows the rule. Allocates nothing.</summary>
    public static bool IsValid(string name) => name.Length > 0 && Problem(name) is null;

    /// <summary>Null when <paramref name="name"/> follows the rule (an empty name passes unless <paramref name="required"/>), else the problem for <paramref name="field"/>.</summary>
    public static ValidationError? Validate(string name, string field, int recordIndex = -1, bool required = false)
    {
        if (name.Length == 0)
        {
            return required ? ValidationError.Invalid($"{field}: is empty; a class needs a name", recordIndex) : null;
        }

        return Problem(name) is { } problem ? ValidationError.Invalid($"{field}: {problem}", recordIndex) : null;
    }

    /// <summary>Null when <paramref name="names"/> are each a valid, non-empty name and none repeats, else the first problem.</summary>
    public static ValidationError? ValidateNames(IReadOnlyList<string> names, string field, int recordIndex = -1)
    {
        ArgumentNullException.ThrowIfNull(names);
        for (var i = 0; i < names.Count; i++)
        {
            if (Validate(names[i], $"{field}[{i}]", recordIndex, required: true) is { } error)
            {
                return error;
            }
        }

        var (first, repeat) = FindRepeat(names);
        return repeat < 0
            ? null
            : ValidationError.Invalid(
                $"{field}[{repeat}]: \"{TextPreview.Of(names[repeat])}\" repeats {field}[{first}]; each class needs its own name", recordIndex);
    }

    /// <summary>True when <paramref name="names"/> each follow the rule, none empty, none repeated. Allocates nothing once warm.</summary>
    public static bool AreValidNames(IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        for (var i = 0; i < names.Count; i++)
        {
            if (!IsValid(names[i]))
            {
                return false;
            }
        }

        return FindRepeat(names).Repeat < 0;
    }

    // The first name that repeats an earlier one, with that earlier one's index; (-1, -1) when none does.
    private static (int First, int Repeat) FindRepeat(IReadOnlyList<string> names)
    {
        if (names.Count < 2)
        {
            return (-1, -1);
        }

        var seen = t_seen ??= new HashSet<string>(StringComparer.Ordinal);
        seen.Clear();
        try
        {
            for (var i = 0; i < names.Count; i++)
            {
                if (!seen.Add(names[i]))
                {
                    for (var j = 0; j < i; j++)
                    {
                        if (string.Equals(names[j], names[i], StringComparison.Ordinal))
                        {
                            return (j, i);
                        }
                    }
                }
            }

            return (-1, -1);
        }
        finally
        {
            seen.Clear();
        }
    }

    // What is wrong with a non-empty name, or null; builds text only for a name that breaks the rule.
    private static string? Problem(string name)
    {
        var control = name.AsSpan().IndexOfAnyInRange('\u0000', '\u001F');
        if (control < 0)
        {
            control = name.AsSpan().IndexOfAnyInRange('\u007F', '\u009F');
        }

        if (control >= 0)
        {
            return string.Create(
                CultureInfo.InvariantCulture,
                $"contains a control character (U+{(int)name[control]:X4}) at index {control}; a class name must be printable text");
        }

        if (Rune.DecodeFromUtf16(name, out var first, out _) == System.Buffers.OperationStatus.Done && Invisible(first))
        {
            return EdgeProblem("starts", first);
        }

        if (Rune.DecodeLastFromUtf16(name, out var last, out _) == System.Buffers.OperationStatus.Done && Invisible(last))
        {
            return EdgeProblem("ends", last);
        }

        return null;
    }

    private static bool Invisible(Rune rune) =>
        Rune.IsWhiteSpace(rune) || Rune.GetUnicodeCategory(rune) is UnicodeCategory.SpaceSeparator or UnicodeCategory.Format;

    private static string EdgeProblem(string where, Rune rune) => string.Create(
        CultureInfo.InvariantCulture,
        $"{where} with white space or an invisible character (U+{rune.Value:X4}); send it without (it names a class: \" 7 \" and \"7\" would be two classes)");
}
