using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Small JSON request bodies, at most <see cref="MaxBodyBytes"/>: parsed once, before a write's endpoint runs
/// (<see cref="CheckBodyAsync"/>), and read by the endpoint from that parse (<see cref="Read{T}"/>).
/// </summary>
internal static class StudioRequests
{
    private const int MaxBodyBytes = 4 * 1024 * 1024;

    // Where the parsed body waits for the endpoint (disposed with the response).
    private static readonly object BodyKey = new();

    /// <summary>
    /// Parses a write's body before its endpoint runs, and answers for it when it cannot be used: too large (413),
    /// sent too slowly or cut off (Kestrel's status, 408 or 400, instead of an unhandled exception in the log), or not
    /// JSON (400 saying so, not "set: is required").
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

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            // Kestrel enforces it for a body of unknown length too (413, as a BadHttpRequestException below).
            limit.MaxRequestBodySize = MaxBodyBytes;
        }

        if (request.ContentLength is > MaxBodyBytes)
        {
            return Problem($"the body is larger than {MaxBodyBytes / (1024 * 1024)} MiB", StatusCodes.Status413PayloadTooLarge);
        }

        try
        {
            var body = await JsonDocument.ParseAsync(request.Body, new JsonDocumentOptions { MaxDepth = 64 }, context.RequestAborted).ConfigureAwait(false);
            context.Response.RegisterForDispose(body);
            context.Items[BodyKey] = body;
            return null;
        }
        catch (JsonException ex)
        {
            return Problem($"the body is not valid JSON ({ex.Message})", StatusCodes.Status400BadRequest);
        }
        catch (BadHttpRequestException ex)
        {
            // A body too large, sent too slowly or cut off: answered, not logged as a server fault.
            return Problem($"the body could not be read ({ex.Message})", ex.StatusCode);
        }
    }

    /// <summary>The body <see cref="CheckBodyAsync"/> parsed, as <typeparamref name="T"/>; null when there was none.</summary>
    /// <exception cref="StudioBodyException">The body is not a <typeparamref name="T"/> (answered 400 by <see cref="StudioAccessFilter"/>).</exception>
    public static T? Read<T>(HttpContext context)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items[BodyKey] is not JsonDocument body)
        {
            return null;
        }

        try
        {
            return body.Deserialize<T>(StudioJson.Options);
        }
        catch (JsonException ex)
        {
            // Valid JSON, but a field has the wrong type (or the body is not an object): name it rather than answer as if
            // the body were empty ("set: is required").
            var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : "the body";
            throw new StudioBodyException($"{field}: has the wrong type or form (the body is a JSON object of the request's fields)", ex);
        }
    }

    private static IResult Problem(string problem, int status) => Results.Json(new StudioError(problem), StudioJson.Options, statusCode: status);
}
