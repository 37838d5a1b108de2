using Chroma.Server.Cli.Internal;
using Chroma.Server.HealthChecks;
using Grpc.Core;
using Grpc.Health.V1;
using Spectre.Console;

namespace Chroma.Server.Cli.Commands;

/// <summary>
/// <c>health</c>: the standard gRPC health check; exit code 0 only when the server is SERVING (container HEALTHCHECK).
/// Without <c>--service</c> it asks for liveness (<c>""</c>); <c>--service chroma.v1.Ingest</c> or <c>chroma.v1.Query</c> asks for readiness.
/// <c>--local</c> finds the server by its own settings (<see cref="Connection.LocalServer"/>): the container's probe, with
/// and without TLS.
/// </summary>
internal sealed class HealthCommand : ICliCommand
{
    /// <inheritdoc />
    public string Name => "health";

    /// <inheritdoc />
    public string Usage => "health [--service chroma.v1.Ingest|chroma.v1.Query] [--local] [--json]: gRPC health check (liveness, or a service's readiness); exit code 0 when serving. "
        + "--local: the server on this machine by its own settings (Chroma__Port; https:// with the certificate of Chroma__Certificate__*, when set), as the container's HEALTHCHECK does";

    /// <inheritdoc />
    public async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var service = context.Arguments.Get("service") ?? string.Empty;
        if (context.LocalServer?.CertificateProblem(DateTimeOffset.UtcNow) is (var certificateProblem, var refused))
        {
            // --local trusts exactly the server's certificate, whatever its dates; every other client checks them (probe X,
            // X4: an expired one passed the container's HEALTHCHECK while every client was refused).
            await context.Error.WriteLineAsync($"chroma-server: the server's certificate (Chroma:Certificate:Path) {certificateProblem}").ConfigureAwait(false);
            if (refused)
            {
                return CliExitCode.Unreachable;
            }
        }

        HealthCheckResponse reply;
        try
        {
            reply = await context.CreateHealthClient()
                .CheckAsync(new HealthCheckRequest { Service = service }, deadline: DateTime.UtcNow + context.Timeout, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            // The health service answers NotFound with an empty detail for a name it has no status for.
            await context.Error.WriteLineAsync(
                $"chroma-server: the server at {context.Endpoint} has no health status for the service '{service}'; the services that have one are "
                + $"\"{HealthServiceNames.Liveness}\" (the whole server, the default), {HealthServiceNames.Ingest} and {HealthServiceNames.Query}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }

        var serving = reply.Status == HealthCheckResponse.Types.ServingStatus.Serving;
        if (context.Arguments.Json)
        {
            await CliJson.WriteLineAsync(context.Output, new { status = reply.Status.ToString(), endpoint = context.Endpoint }).ConfigureAwait(false);
        }
        else
        {
            context.Console.MarkupLine(serving ? "[green]SERVING[/] {0}" : "[red]{1}[/] {0}", Markup.Escape(context.Endpoint.ToString()), reply.Status);
        }

        return serving ? CliExitCode.Success : CliExitCode.Unreachable;
    }
}
