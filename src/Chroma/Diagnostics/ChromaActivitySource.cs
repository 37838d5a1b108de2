using System.Diagnostics;

namespace Chroma.Diagnostics;

/// <summary>
/// The <c>Chroma</c> activity source: one client span per query and per flush, so OpenTelemetry tracing
/// (<c>AddSource("Chroma")</c>) shows what Chroma did for the app. Capture itself creates no spans (it must stay cheap).
/// </summary>
internal static class ChromaActivitySource
{
    public const string Name = ChromaDiagnostics.ActivitySourceName;

    public static ActivitySource Instance { get; } = new(Name, typeof(ChromaActivitySource).Assembly.GetName().Version?.ToString());

    public static Activity? StartQuery(string method, Uri endpoint, string? setId)
    {
        var activity = Instance.StartActivity("chroma." + method, ActivityKind.Client);
        if (activity is not null)
        {
            activity.SetTag("rpc.system", "grpc");
            activity.SetTag("rpc.service", "chroma.v1.Query");
            activity.SetTag("rpc.method", method);
            activity.SetTag("server.address", endpoint.Host);
            activity.SetTag("server.port", endpoint.Port);
            if (setId is not null)
            {
                activity.SetTag("chroma.set_id", setId);
            }
        }

        return activity;
    }
}
