using Chroma.Server.Hosting;
using Chroma.Server.Hosting.Internal;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chroma.Server.Tests.Reliability;

/// <summary>
/// A real server on 127.0.0.1 built exactly as <see cref="ChromaServer"/> builds it, but logging
/// everything (Trace and up, ASP.NET Core and gRPC included) into a <see cref="CapturingLoggerProvider"/>.
/// </summary>
internal sealed class LoggedServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _directory;

    private LoggedServer(WebApplication app, TempDirectory directory, CapturingLoggerProvider logs, Uri endpoint, string? apiKey, Uri? webEndpoint)
    {
        _app = app;
        WebEndpoint = webEndpoint;
        _directory = directory;
        Logs = logs;
        Endpoint = endpoint;
        Channel = GrpcChannel.ForAddress(endpoint);
        var invoker = Channel.CreateCallInvoker();
        Invoker = apiKey is null ? invoker : invoker.Intercept(m => { m.Add("x-api-key", apiKey); return m; });
        Services = app.Services;
    }

    public CapturingLoggerProvider Logs { get; }

    /// <summary>Gets the server's address (<c>https://</c> when it has a certificate; <see cref="Channel"/> then does not trust it).</summary>
    public Uri Endpoint { get; }

    public GrpcChannel Channel { get; }

    /// <summary>Calls through this carry the API key, when the server has one.</summary>
    public CallInvoker Invoker { get; }

    public IServiceProvider Services { get; }

    /// <summary>Gets Studio's address, or null when the options left it off.</summary>
    public Uri? WebEndpoint { get; }

    /// <summary>Starts the server; <paramref name="replaceServices"/> runs after its own registrations (to put a fake in place of one).</summary>
    public static async Task<LoggedServer> StartAsync(
        Action<ChromaServerOptions>? configure = null, LogLevel minimumLevel = LogLevel.Trace, Action<IServiceCollection>? replaceServices = null)
    {
        var directory = new TempDirectory();
        var options = new ChromaServerOptions { Host = "127.0.0.1", Port = 0, DataDirectory = directory.Path };
        configure?.Invoke(options);
        var logs = new CapturingLoggerProvider();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrelCore();
        builder.Logging.AddProvider(logs).SetMinimumLevel(minimumLevel);
        var app = builder.BuildChromaServer(options, replaceServices: replaceServices);
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var endpoint = ChromaServerApplication.GetEndpoint(
            options.Host, ChromaServerApplication.GetBoundPort(app), tls: options.Certificate.Path is not null);
        return new LoggedServer(app, directory, logs, endpoint, options.ApiKey, ChromaServerApplication.GetWebEndpoint(app, options));
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _directory.Dispose();
    }
}
