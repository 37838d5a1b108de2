namespace Chroma.Server.Validation;

/// <summary>Lists of record ids in queries: bounded in size, every id canonical.</summary>
internal static class RecordIdListValidator
{
    /// <summary>Null when every id is canonical and there are 1..<paramref name="maxCount"/> of them, else the problem.</summary>
    public static ValidationError? Validate(IReadOnlyList<string> ids, int maxCount, string field = "ids")
    {
        if (ids.Count == 0)
        {
            return ValidationError.Invalid($"{field}: is empty");
        }

        if (ids.Count > maxCount)
        {
            return ValidationError.Invalid($"{field}: has {ids.Count} ids, limit {maxCount}");
        }

        for (var i = 0; i < ids.Count; i++)
        {
            if (RecordIdFormat.Validate(ids[i], $"{field}[{i}]") is { } error)
            {
                return error;
            }
        }

        return null;
    }
}
