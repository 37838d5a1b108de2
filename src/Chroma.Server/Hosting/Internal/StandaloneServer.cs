using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// The standalone server (<c>chroma-server</c>, <c>chroma-server serve</c>): options from <c>appsettings.json</c> (section
/// <c>Chroma</c>), environment variables (<c>Chroma__Port</c>, ...) and the command line. A start that fails prints one
/// line naming the setting or file and exits with the code of <see cref="ChromaServerStartFailure"/>.
/// </summary>
internal static class StandaloneServer
{
    /// <summary>
    /// Runs the server until it is told to stop; returns the process exit code. <paramref name="configure"/> adds the
    /// host's own services (the tool's metrics export) before the server is built.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter error, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(error);
        if (ServerArguments.Problem(args, "serve") is { } problem)
        {
            await error.WriteLineAsync($"chroma-server: {problem}. Run 'chroma-server help' for usage.").ConfigureAwait(false);
            return ServerArguments.UsageExitCode;
        }

        var options = new ChromaServerOptions();
        WebApplication app;
        try
        {
            var builder = WebApplication.CreateBuilder(args);
            options = BindOptions(builder);
            ConsoleLogTimestamps.AddUnlessConfigured(builder.Logging, builder.Configuration);
            configure?.Invoke(builder);
            app = builder.BuildChromaServer(options, builder.Configuration.GetSection(ChromaServerOptions.SectionName));
        }
        catch (Exception ex) when (Classify(ex, options) is { } failure)
        {
            await error.WriteLineAsync($"chroma-server: {failure.Message}").ConfigureAwait(false);
            return failure.ExitCode;
        }

        await using (app.ConfigureAwait(false))
        {
            try
            {
                await app.StartAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (Classify(ex, options) is { } failure)
            {
                await error.WriteLineAsync($"chroma-server: {failure.Message}").ConfigureAwait(false);
                return failure.ExitCode;
            }

            var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Chroma.Server");
            var endpoint = ChromaServerApplication.GetEndpoint(
                options.Host, ChromaServerApplication.GetBoundPort(app), tls: options.Certificate.Path is not null);
            var dataDirectory = Path.GetFullPath(options.DataDirectory);
            // The provider on the first line: a replica that forgot it would otherwise run on a file of its own unnoticed.
            var storage = options.Storage?.Provider == Storage.StorageProvider.Postgres ? "PostgreSQL, shared" : "SQLite, this server's own";
            ServerLog.Listening(logger, endpoint, storage, dataDirectory, options.ApiKey is not null);
            if (Security.ApiKeyStrength.Warning(options.ApiKey) is { } weakKey)
            {
                ServerLog.WeakApiKey(logger, weakKey);
            }

            if (app.Services.GetRequiredService<DataDirectoryLock>().OpenToOthers && !OperatingSystem.IsWindows())
            {
                var mode = Convert.ToString((int)File.GetUnixFileMode(dataDirectory), 8).PadLeft(4, '0');
                ServerLog.DataDirectoryOpenToOthers(logger, dataDirectory, mode);
            }

            if (ChromaServerApplication.GetWebEndpoint(app, options) is { } studio)
            {
                ServerLog.StudioListening(logger, studio);
            }
            await app.WaitForShutdownAsync().ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>
    /// <c>chroma-server migrate</c>: reads the same configuration as the server, brings the database's schema up to date and
    /// returns the exit code (0 done; otherwise the start-failure code with one line naming the setting).
    /// </summary>
    public static async Task<int> MigrateAsync(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        if (ServerArguments.IsHelp(args))
        {
            await output.WriteLineAsync(MigrateCommand.Usage).ConfigureAwait(false);
            return 0;
        }

        if (ServerArguments.Problem(args, MigrateCommand.Name) is { } problem)
        {
            await error.WriteLineAsync($"chroma-server: {problem}. Run 'chroma-server migrate --help' for usage.").ConfigureAwait(false);
            return ServerArguments.UsageExitCode;
        }

        var options = new ChromaServerOptions();
        try
        {
            options = BindOptions(WebApplication.CreateBuilder(args));
        }
        catch (Exception ex) when (Classify(ex, options) is { } failure)
        {
            await error.WriteLineAsync($"chroma-server: {failure.Message}").ConfigureAwait(false);
            return failure.ExitCode;
        }

        return MigrateCommand.Run(options, output, error);
    }

    /// <summary>
    /// The options the standalone server would run with for <paramref name="args"/>: the same configuration sources
    /// (<c>chroma-server health --local</c> finds the server on this machine by them). Not validated.
    /// </summary>
    public static ChromaServerOptions ReadOptions(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        using (builder.Configuration)
        {
            return BindOptions(builder);
        }
    }

    // The appsettings.json shipped next to the program gives the defaults (log levels, DataDirectory); one in the
    // working directory, environment variables and the command line override it.
    private static ChromaServerOptions BindOptions(WebApplicationBuilder builder)
    {
        ((IConfigurationBuilder)builder.Configuration).Sources.Insert(0, new JsonConfigurationSource
        {
            Path = "appsettings.json",
            Optional = true,
            FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
        });
        return builder.Configuration.GetSection(ChromaServerOptions.SectionName).Get<ChromaServerOptions>() ?? new ChromaServerOptions();
    }

    private static ChromaServerStartException? Classify(Exception exception, ChromaServerOptions options) => exception switch
    {
        // A value the configuration binder cannot convert: "Failed to convert configuration value 'x' at 'Chroma:Port' to type 'System.Int32'."
        InvalidOperationException { InnerException: not null } binding when binding.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => new(ChromaServerStartFailure.Setting, BindingFailureMessage.Describe(binding.Message), binding),

        // A malformed appsettings.json: "Failed to load configuration from file '...'."
        InvalidDataException or FormatException => new(ChromaServerStartFailure.Setting, OneLine(exception), exception),
        _ => StartFailureClassifier.Classify(exception, options),
    };

    private static string OneLine(Exception exception) =>
        (exception.InnerException is { } inner ? $"{exception.Message} ({inner.Message})" : exception.Message).ReplaceLineEndings(" ");
}
