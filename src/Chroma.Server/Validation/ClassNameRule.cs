using System.Globalization;
using System.Text;

namespace Chroma.Server.Validation;

/// <summary>
/// The rule for text that names a class: a record's label and a reviewer's label (LabelRecords). A model's
/// predicted_class and class_names are its outputs and are stored as sent (ImageNet's class list names "crane"
/// twice). A label becomes a class name when training is fitted or a label promoted, so two spellings that look the same would split one class in two (" 7 " and "7", "\u200B7" and "7"), and control
/// characters would be exported raw into files and terminals. Such a name has no leading or trailing white space or
/// invisible format character (Unicode categories Zs and Cf and other white space), no control character (Cc)
/// anywhere, and is not empty where a name is required. Text stored before the rule is kept as it is.
/// </summary>
internal static class ClassNameRule
{
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
