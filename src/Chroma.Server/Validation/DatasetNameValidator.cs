using Chroma.Server.Validation.Internal;

namespace Chroma.Server.Validation;

/// <summary>Dataset names: 1-64 characters of [A-Za-z0-9_.-] ("training", "production", ...).</summary>
internal static class DatasetNameValidator
{
    /// <summary>The longest dataset name.</summary>
    public const int MaxLength = 64;

    /// <summary>Null when <paramref name="dataset"/> is a valid name, else the problem for <paramref name="field"/>.</summary>
    public static ValidationError? Validate(string dataset, string field, int recordIndex = -1) =>
        NameCharacters.Check(dataset, MaxLength) is { } problem
            ? ValidationError.Invalid($"{field}: {problem}", recordIndex)
            : null;
}
