namespace Chroma.Server.Validation;

/// <summary>NaN and infinities would poison distances and scores, so no stored float may be one.</summary>
internal static class FiniteValues
{
    /// <summary>Null when every value is finite, else the first bad one as <c>field[i]: value is NaN</c>.</summary>
    public static ValidationError? Validate(ReadOnlySpan<float> values, string field, int recordIndex = -1)
    {
        for (var i = 0; i < values.Length; i++)
        {
            var value = values[i];
            if (!float.IsFinite(value))
            {
                var what = float.IsNaN(value) ? "NaN" : "infinite";
                return ValidationError.Invalid($"{field}[{i}]: value is {what}", recordIndex);
            }
        }

        return null;
    }
}
