namespace Chroma.Server.Web.Internal;

/// <summary>
/// A write's body is JSON but not the request its endpoint reads (a field of the wrong type, an array): thrown by
/// <see cref="StudioRequests.Read{T}"/> and answered 400 by <see cref="StudioAccessFilter"/> with this message, which
/// names the field, instead of the endpoint reading no body at all ("set: is required").
/// </summary>
internal sealed class StudioBodyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StudioBodyException()
    {
    }

    /// <summary>Creates the exception with a message naming the field.</summary>
    public StudioBodyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message naming the field, and its cause.</summary>
    public StudioBodyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
