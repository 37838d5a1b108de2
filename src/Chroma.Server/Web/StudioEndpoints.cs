using Chroma.Server.Web.Internal;

namespace Chroma.Server.Web;

/// <summary>
/// Registers and maps Chroma Studio: the app at <c>/</c>, its files under <c>/assets/</c>, its JSON and binary
/// API under <c>/api/</c> and live changes as server-sent events at <c>/api/events</c>.
/// </summary>
internal static class StudioEndpoints
{
    /// <summary>Adds Studio's services.</summary>
    public static IServiceCollection AddStudio(this IServiceCollection services)
    {
        services.AddSingleton<StudioAssets>();
        // Sign-outs: PostgreSQL keeps them in the shared database, so every replica refuses a signed-out session. SQLite
        // keeps them in the record store's file: open it first so it creates the file.
        services.AddSingleton<Security.ISignOutStore>(sp =>
        {
            _ = sp.GetRequiredService<Storage.IRecordStore>();
            return sp.GetRequiredService<Storage.RecordStorage>().SignOuts
                ?? Security.SqliteSignOutStore.Open(sp.GetRequiredService<Hosting.ChromaServerOptions>().DataDirectory);
        });
        services.AddSingleton<StudioSessions>();
        services.AddSingleton<StudioHosts>();
        services.AddSingleton<MapProjections>();
        services.AddSingleton<MapWarmer>();
        services.AddHostedService(sp => sp.GetRequiredService<MapWarmer>());
        services.AddSingleton<StudioUndo>();
        services.AddSingleton<StudioApi>();

        // The page's JSON and files go out gzipped to browsers that ask for it (a queue page of 50 items with their
        // pictures is about 140 kB plain). Only these types: gRPC, the map's binary payload and the event stream pass as
        // they are. Not over HTTPS (the framework's default), where compressing responses is a known side channel.
        services.AddResponseCompression(compression =>
        {
            compression.Providers.Add<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProvider>();
            compression.MimeTypes = ["application/json", "text/html", "text/css", "text/javascript", "application/javascript"];
        });
        services.Configure<Microsoft.AspNetCore.ResponseCompression.GzipCompressionProviderOptions>(gzip => gzip.Level = System.IO.Compression.CompressionLevel.Fastest);
        return services;
    }

    /// <summary>Maps Studio's endpoints; each answers only on the HTTP/1.1 (Studio) port.</summary>
    public static void MapStudio(this IEndpointRouteBuilder app)
    {
        var open = app.MapGroup(string.Empty).AddEndpointFilter(new StudioAccessFilter(requireSession: false));
        open.MapGet("/", (StudioAssets assets, HttpContext context) => Asset(assets, "index.html", context));
        open.MapGet("/assets/{file}", (string file, StudioAssets assets, HttpContext context) => Asset(assets, file, context));
        open.MapGet("/api/session", (StudioApi api, HttpContext context) => api.SessionAsync(context));
        open.MapPost("/api/session", (StudioApi api, HttpContext context) => api.SignIn(context));
        open.MapDelete("/api/session", (StudioApi api, HttpContext context) => api.SignOutAsync(context));

        var data = app.MapGroup("/api").AddEndpointFilter(new StudioAccessFilter(requireSession: true));
        data.MapGet("/sets", (StudioApi api, HttpContext context) => api.Sets(context.Request.Query["set"]));
        // Numbers are bound as text and read here: the framework's own binding answers a bad one 400 with an empty body.
        data.MapGet("/map", (StudioApi api, string? set, string? after, string? projection) =>
            WholeNumber(after, "after", out var from) ?? api.Map(set, from ?? 0, projection));
        data.MapGet("/record", (StudioApi api, string? set, string? sequence, CancellationToken cancellationToken) =>
            WholeNumber(sequence, "sequence", out var number) is { } bad ? Task.FromResult(bad) : api.RecordAsync(set, number, cancellationToken));
        data.MapGet("/input", (StudioApi api, string? set, string? sequence) =>
            WholeNumber(sequence, "sequence", out var number) ?? api.Input(set, number));
        data.MapPost("/undo", (StudioApi api, HttpContext context, CancellationToken cancellationToken) => api.UndoAsync(context, cancellationToken));
        data.MapGet("/queue", (StudioApi api, HttpContext context) => api.Queue(context.Request.Query));
        data.MapPost("/tag", (StudioApi api, HttpContext context, CancellationToken cancellationToken) => api.TagAsync(context, cancellationToken));
        data.MapPost("/label", (StudioApi api, HttpContext context, CancellationToken cancellationToken) => api.LabelAsync(context, cancellationToken));
        data.MapPost("/review", (StudioApi api, HttpContext context, CancellationToken cancellationToken) => api.ReviewAsync(context, cancellationToken));
        data.MapPost("/promote", (StudioApi api, HttpContext context, CancellationToken cancellationToken) => api.PromoteAsync(context, cancellationToken));
        data.MapPost("/delete", (StudioApi api, HttpContext context) => api.Delete(context));
        data.MapGet("/events", (StudioApi api, HttpContext context, IHostApplicationLifetime lifetime, CancellationToken cancellationToken) =>
            api.EventsAsync(context, lifetime.ApplicationStopping, cancellationToken));
    }

    // A whole-number query parameter (null when absent), or a 400 naming it when it is not one.
    private static IResult? WholeNumber(string? text, string name, out long? value)
    {
        value = null;
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (long.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
            return null;
        }

        return Results.Json(new StudioError($"{name}: must be a whole number (got \"{text}\")"), StudioJson.Options, statusCode: StatusCodes.Status400BadRequest);
    }

    private static IResult Asset(StudioAssets assets, string file, HttpContext context)
    {
        if (assets.Find(file) is not { } asset)
        {
            return Results.NotFound();
        }

        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        context.Response.Headers.ETag = asset.ETag;
        context.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
