namespace Chroma.Server.Web.Internal;

/// <summary>Security headers on every Studio response: only its own scripts, never framed, never cached by proxies.</summary>
internal static class StudioHeaders
{
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    /// <summary>Adds the headers to <paramref name="response"/>.</summary>
    public static void Apply(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var headers = response.Headers;
        var request = response.HttpContext.Request;
        if (request.IsHttps && !IsLoopback(request.Host.Host))
        {
            // Served over HTTPS (a certificate is configured): browsers keep to HTTPS for this name for 30 days. Not for
            // localhost, where it would hold for every other local service on any port (as ASP.NET Core's UseHsts).
            headers.StrictTransportSecurity = "max-age=2592000";
        }

        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
    }

    private static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
        || (System.Net.IPAddress.TryParse(host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address));
}
