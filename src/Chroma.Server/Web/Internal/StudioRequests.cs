using System.Text.Json;

namespace Chroma.Server.Web.Internal;

/// <summary>Reads small JSON request bodies with a size cap; a body that does not parse reads as null.</summary>
internal static class StudioRequests
{
    private const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>The body as <typeparamref name="T"/>, or null when it is empty, too large or not JSON.</summary>
    public static async Task<T?> ReadAsync<T>(HttpContext context, CancellationToken cancellationToken)
        where T : class
    {
        if (context.Request.ContentLength is > MaxBodyBytes)
        {
            return null;
        }

        try
        {
            return await JsonSerializer.DeserializeAsync<T>(context.Request.Body, StudioJson.Options, cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
