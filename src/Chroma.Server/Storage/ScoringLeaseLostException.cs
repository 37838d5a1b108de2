namespace Chroma.Server.Storage;

/// <summary>
/// A scoring write was refused because another replica took the set's scoring lease over (its generation is no
/// longer current): nothing of it was stored. The pass that wrote it ends; the new holder scores the set.
/// </summary>
internal sealed class ScoringLeaseLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ScoringLeaseLostException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ScoringLeaseLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ScoringLeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
