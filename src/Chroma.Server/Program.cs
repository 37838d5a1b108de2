using Chroma.Server.Cli;
using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Spectre.Console;

// `chroma-server sets|stats|recommend|neighbours|export|report|health ...` query a running server;
// anything else (nothing, `serve`, or configuration such as --Chroma:Port=6000) runs the server.
if (ChromaCli.IsCliCommand(args))
{
    using var cancel = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) =>
    {
        e.Cancel = true;
        cancel.Cancel();
    };
    return await ChromaCli.RunAsync(args, AnsiConsole.Console, Console.Out, Console.Error, cancel.Token).ConfigureAwait(false);
}

// Standalone server: options come from appsettings.json ("Chroma" section), environment
// variables (Chroma__Port, Chroma__DataDirectory, Chroma__ApiKey, ...) and the command line.
var builder = WebApplication.CreateBuilder(args.Length > 0 && args[0] == "serve" ? args[1..] : args);
var options = builder.Configuration.GetSection(ChromaServerOptions.SectionName).Get<ChromaServerOptions>()
    ?? new ChromaServerOptions();

await using var app = builder.BuildChromaServer(options);
await app.StartAsync().ConfigureAwait(false);

var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Chroma.Server");
var endpoint = ChromaServerApplication.GetEndpoint(
    options.Host, ChromaServerApplication.GetBoundPort(app), tls: options.CertificatePath is not null);
var dataDirectory = Path.GetFullPath(options.DataDirectory);
ServerLog.Listening(logger, endpoint, dataDirectory, options.ApiKey is not null);
if (ChromaServerApplication.GetWebEndpoint(app, options) is { } studio)
{
    ServerLog.StudioListening(logger, studio);
}

await app.WaitForShutdownAsync().ConfigureAwait(false);
return 0;
