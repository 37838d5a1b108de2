using System.Text.Json;

namespace Chroma.Server.Web.Internal;

/// <summary>Reads small JSON request bodies with a size cap; a body that does not parse reads as null.</summary>
internal static class StudioRequests
{
    private const int MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>
    /// Reads a write's body once before its endpoint runs, and answers for it when it cannot be used: too large (413),
    /// sent too slowly or cut off (Kestrel's status, 408 or 400, instead of an unhandled exception in the log), or not
    /// JSON (400 saying so, not "set: is required"). The body is kept in memory for the endpoint to read.
    /// </summary>
    public static async Task<IResult?> CheckBodyAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)
            || (request.ContentLength is null or 0 && request.Headers.TransferEncoding.Count == 0))
        {
            return null;
        }

        if (request.ContentLength is > MaxBodyBytes)
        {
            return Problem($"the body is larger than {MaxBodyBytes / (1024 * 1024)} MiB", StatusCodes.Status413PayloadTooLarge);
        }

        try
        {
            request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: MaxBodyBytes);
            using (await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 64 }, context.RequestAborted).ConfigureAwait(false))
            {
            }

            request.Body.Position = 0;
            return null;
        }
        catch (JsonException ex)
        {
            return Problem($"the body is not valid JSON ({ex.Message})", StatusCodes.Status400BadRequest);
        }
        catch (BadHttpRequestException ex)
        {
            // A body sent too slowly (408), cut off or over the buffer's limit: answered, not logged as a server fault.
            return Problem($"the body could not be read ({ex.Message})", ex.StatusCode);
        }
        catch (IOException ex) when (ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            return Problem($"the body is larger than {MaxBodyBytes / (1024 * 1024)} MiB", StatusCodes.Status413PayloadTooLarge);
        }
    }

    private static IResult Problem(string problem, int status) => Results.Json(new StudioError(problem), StudioJson.Options, statusCode: status);

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
