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
                return $"character {i} is not one of [A-Za-z0-9_.-]";
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

    private static bool IsAllowed(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-';
}
