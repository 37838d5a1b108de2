namespace Chroma.Server.HealthChecks;

/// <summary>
/// The service names the server answers on <c>grpc.health.v1.Health</c>: one for liveness, one readiness per service.
/// </summary>
internal static class HealthServiceNames
{
    /// <summary>Liveness (<c>""</c>): the process answers. An orchestrator restarts the server only when this fails.</summary>
    public const string Liveness = "";

    /// <summary>Readiness to ingest: the database answers and the disk has room (NOT_SERVING while the disk is full).</summary>
    public const string Ingest = "chroma.v1.Ingest";

    /// <summary>Readiness to answer queries: the database answers, and the indexes loaded at start are loaded.</summary>
    public const string Query = "chroma.v1.Query";

    /// <summary>The health-check tag of checks that decide liveness.</summary>
    public const string LiveTag = "live";

    /// <summary>The health-check tag of checks that decide ingest readiness.</summary>
    public const string IngestTag = "ingest";

    /// <summary>The health-check tag of checks that decide query readiness.</summary>
    public const string QueryTag = "query";
}
