namespace Chroma.Server.Web.Internal;

/// <summary>
/// Cross-site request forgery: a write (any method but GET and HEAD) is taken only from Studio's own page. A browser
/// says where a request comes from (<c>Sec-Fetch-Site</c>, <c>Origin</c>), and an HTML form or a cross-origin fetch
/// without a preflight can only send <c>text/plain</c>, form or multipart bodies: so a write must come from the same
/// origin (scheme, host and port; another port on the same host is another origin, though SameSite cookies are still
/// sent to it) and carry a JSON body. Tools without a browser (curl, scripts) send neither header and pass with JSON.
/// </summary>
internal static class StudioOrigin
{
    /// <summary>Why <paramref name="request"/> is refused as a possible forgery, or null when it is not one.</summary>
    public static string? RefusalOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
        {
            return null;
        }

        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none"))
        {
            return $"refused: a write from another site or origin (Sec-Fetch-Site: {Shorten(site)}); Studio takes writes only from its own page";
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0 && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase))
        {
            return $"refused: a write from another origin ({Shorten(origin)}); Studio takes writes only from its own page";
        }

        var hasBody = request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0;
        if (hasBody && !IsJson(request.ContentType))
        {
            return "refused: a write's body must be JSON (Content-Type: application/json)";
        }

        return null;
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null
        && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && string.Equals(media.MediaType.Value, "application/json", StringComparison.OrdinalIgnoreCase);

    // An Origin header is the caller's text: logged or echoed only in part.
    private static string Shorten(string value) => value.Length <= 100 ? value : value[..100] + "…";
}
