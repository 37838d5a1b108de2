using Chroma.Server.Services.Internal;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Guards every Studio endpoint: answers only on the HTTP/1.1 port (the gRPC port speaks HTTP/2 only, so
/// Studio is not reachable through it), takes writes only from Studio's own page (<see cref="StudioOrigin"/>) and,
/// for data endpoints, answers only a signed-in browser.
/// </summary>
internal sealed class StudioAccessFilter : IEndpointFilter
{
    private readonly bool _requireSession;

    /// <summary>Creates the filter; <paramref name="requireSession"/> for endpoints that return data.</summary>
    public StudioAccessFilter(bool requireSession) => _requireSession = requireSession;

    /// <inheritdoc />
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        if (GrpcListenerRequests.IsGrpcPort(http.Request))
        {
            return Results.NotFound();
        }

        StudioHeaders.Apply(http.Response);
        if (http.RequestServices.GetRequiredService<StudioHosts>().RefusalOf(http.Request.Host) is { } wrongHost)
        {
            return Results.Json(new StudioError(wrongHost), StudioJson.Options, statusCode: StatusCodes.Status403Forbidden);
        }

        if (StudioOrigin.RefusalOf(http.Request) is { } refusal)
        {
            return Results.Json(new StudioError(refusal), StudioJson.Options, statusCode: StatusCodes.Status403Forbidden);
        }

        if (_requireSession && !await http.RequestServices.GetRequiredService<StudioSessions>().IsSignedInAsync(http).ConfigureAwait(false))
        {
            return Results.Json(new StudioError("sign in with the server's API key"), StudioJson.Options, statusCode: StatusCodes.Status401Unauthorized);
        }

        if (await StudioRequests.CheckBodyAsync(http).ConfigureAwait(false) is { } badBody)
        {
            return badBody;
        }

        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (StudioBodyException ex)
        {
            return Results.Json(new StudioError(ex.Message), StudioJson.Options, statusCode: StatusCodes.Status400BadRequest);
        }
    }
}
