using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;

// Standalone server: options come from appsettings.json ("Chroma" section), environment
// variables (Chroma__Port, Chroma__DataDirectory, Chroma__ApiKey, ...) and the command line.
var builder = WebApplication.CreateBuilder(args);
var options = builder.Configuration.GetSection(ChromaServerOptions.SectionName).Get<ChromaServerOptions>()
    ?? new ChromaServerOptions();

await using var app = builder.BuildChromaServer(options);
await app.StartAsync().ConfigureAwait(false);

var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Chroma.Server");
var endpoint = ChromaServerApplication.GetEndpoint(
    options.Host, ChromaServerApplication.GetBoundPort(app), tls: options.CertificatePath is not null);
var dataDirectory = Path.GetFullPath(options.DataDirectory);
ServerLog.Listening(logger, endpoint, dataDirectory, options.ApiKey is not null);

await app.WaitForShutdownAsync().ConfigureAwait(false);
