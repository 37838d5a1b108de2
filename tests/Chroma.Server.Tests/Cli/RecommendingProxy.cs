using System.Net;
using Chroma.Protocol.V1;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// A gRPC Query service on 127.0.0.1 that forwards reads to a real Chroma server and answers
/// GetRecommendations from a callback, so CLI tests can pin down what the recommendation API says
/// (a ranked list, Unimplemented, FailedPrecondition) independently of the engine behind it.
/// </summary>
internal sealed class RecommendingProxy : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RecommendingProxy(WebApplication app, Uri endpoint)
    {
        _app = app;
        Endpoint = endpoint;
    }

    public Uri Endpoint { get; }

    public static async Task<RecommendingProxy> StartAsync(Query.QueryClient real, Func<GetRecommendationsRequest, GetRecommendationsResponse> recommend)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        builder.Services.AddRouting();
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(new ForwardingQuery(real, recommend));
        var app = builder.Build();
        app.UseRouting();
        app.MapGrpcService<ForwardingQuery>();
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new RecommendingProxy(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private sealed class ForwardingQuery(Query.QueryClient real, Func<GetRecommendationsRequest, GetRecommendationsResponse> recommend) : Query.QueryBase
    {
        public override async Task<ListSetsResponse> ListSets(ListSetsRequest request, ServerCallContext context) =>
            await real.ListSetsAsync(request);

        public override async Task<CountRecordsResponse> CountRecords(CountRecordsRequest request, ServerCallContext context) =>
            await real.CountRecordsAsync(request);

        public override async Task<GetRecordsResponse> GetRecords(GetRecordsRequest request, ServerCallContext context) =>
            await real.GetRecordsAsync(request);

        public override Task<GetRecommendationsResponse> GetRecommendations(GetRecommendationsRequest request, ServerCallContext context) =>
            Task.FromResult(recommend(request));
    }
}
