namespace Chroma.Server.Cli;

/// <summary>One subcommand of <c>chroma-server</c>.</summary>
internal interface ICliCommand
{
    /// <summary>Gets the name typed on the command line.</summary>
    string Name { get; }

    /// <summary>Gets the one-line usage shown by <c>chroma-server help</c>.</summary>
    string Usage { get; }

    /// <summary>Runs the command; returns a <see cref="CliExitCode"/>.</summary>
    Task<int> RunAsync(CliContext context, CancellationToken cancellationToken = default);
}
