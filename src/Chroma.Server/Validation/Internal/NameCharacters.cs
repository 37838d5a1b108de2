namespace Chroma.Server.Validation.Internal;

/// <summary>The character set shared by set names and dataset names: [A-Za-z0-9_.-].</summary>
internal static class NameCharacters
{
    /// <summary>Null when <paramref name="value"/> is 1..<paramref name="maxLength"/> allowed characters, else the problem.</summary>
    public static string? Check(string value, int maxLength)
    {
        if (value.Length == 0)
        {
            return "is required";
        }

        if (value.Length > maxLength)
        {
            return $"is {value.Length} characters, limit {maxLength}";
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (!IsAllowed(value[i]))
            {
                // Positions count from 1 (UTF-16 code units, as the limits do), and the character is quoted: "character 1"
                // for the second one read as the first.
                return $"character {i + 1} ({Describe(value, i)}) is not one of [A-Za-z0-9_.-]";
            }
        }

        return null;
    }

    /// <summary>Whether <see cref="Check"/> finds no problem (without building its text).</summary>
    public static bool IsValid(string value, int maxLength)
    {
        if (value.Length == 0 || value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!IsAllowed(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The character at <paramref name="index"/> as <c>'í' U+00ED</c>; only the code point where quoting it would not show it.</summary>
    public static string Describe(string value, int index)
    {
        if (char.IsSurrogatePair(value, index))
        {
            var rune = char.ConvertToUtf32(value[index], value[index + 1]);
            return $"'{value.Substring(index, 2)}' U+{rune:X4}";
        }

        var c = value[index];
        return char.IsControl(c) || char.IsSurrogate(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}' U+{(int)c:X4}";
    }

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';
}
