using Chroma.Server.Cli;
using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Storage;
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
// variables (Chroma__Port, Chroma__DataDirectory, Chroma__ApiKey, Chroma__Storage__Provider, ...)
// and the command line. `migrate` reads the same and only brings the database schema up to date.
var migrate = args.Length > 0 && args[0] == MigrateCommand.Name;
var builder = WebApplication.CreateBuilder(args.Length > 0 && args[0] is "serve" or MigrateCommand.Name ? args[1..] : args);
ChromaServerOptions options;
try
{
    options = builder.Configuration.GetSection(ChromaServerOptions.SectionName).Get<ChromaServerOptions>()
        ?? new ChromaServerOptions();
}
catch (InvalidOperationException ex)
{
    // A value the binder cannot convert (e.g. Chroma__Storage__Provider=Mysql): its message names the key.
    await Console.Error.WriteLineAsync("chroma-server: " + ex.Message).ConfigureAwait(false);
    return 2;
}

if (migrate)
{
    return MigrateCommand.Run(options, Console.Out, Console.Error);
}

WebApplication app;
try
{
    app = builder.BuildChromaServer(options);
}
catch (StorageStartException ex)
{
    // The database named by Chroma:Storage cannot be used: say which setting and why, no stack trace.
    await Console.Error.WriteLineAsync("chroma-server: " + ex.Message).ConfigureAwait(false);
    return 1;
}

await using var runningApp = app;
await app.StartAsync().ConfigureAwait(false);

var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Chroma.Server");
var endpoint = ChromaServerApplication.GetEndpoint(
    options.Host, ChromaServerApplication.GetBoundPort(app), tls: options.CertificatePath is not null);
var dataDirectory = Path.GetFullPath(options.DataDirectory);
ServerLog.Listening(logger, endpoint, dataDirectory, options.ApiKey is not null);

await app.WaitForShutdownAsync().ConfigureAwait(false);
return 0;
