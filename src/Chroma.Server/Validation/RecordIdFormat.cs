namespace Chroma.Server.Validation;

/// <summary>
/// Record ids are UUIDs of any version in canonical 8-4-4-4-12 hex form. Hex digits of either
/// case are accepted and stored lower-case (RFC 9562 output form), so an id has one spelling.
/// </summary>
internal static class RecordIdFormat
{
    private const int CanonicalLength = 36;

    /// <summary>Whether <paramref name="id"/> is a canonical UUID text.</summary>
    public static bool IsCanonical(string id)
    {
        if (id.Length != CanonicalLength)
        {
            return false;
        }

        for (var i = 0; i < id.Length; i++)
        {
            var ok = i is 8 or 13 or 18 or 23 ? id[i] == '-' : char.IsAsciiHexDigit(id[i]);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The stored spelling of a canonical id.</summary>
    public static string Normalize(string id) =>
        id.AsSpan().ContainsAnyInRange('A', 'F') ? id.ToLowerInvariant() : id;

    /// <summary>Null when <paramref name="id"/> is canonical, else the problem for <paramref name="field"/>.</summary>
    public static ValidationError? Validate(string id, string field, int recordIndex = -1) =>
        id.Length == 0 ? ValidationError.Invalid($"{field}: is required", recordIndex)
        : IsCanonical(id) ? null
        : ValidationError.Invalid(
            $"{field}: \"{Internal.TextPreview.Of(id)}\" is not a UUID in canonical 8-4-4-4-12 hex form", recordIndex);
}
