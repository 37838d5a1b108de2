using Chroma.Server.Cli.Commands;
using Chroma.Server.Cli.Connection;
using Grpc.Core;
using Spectre.Console;

namespace Chroma.Server.Cli;

/// <summary>
/// The commands of <c>chroma-server</c>: subcommands that query a running server through <see cref="ChromaClient"/>
/// (<c>sets</c>, <c>stats</c>, <c>recommend</c>, <c>neighbours</c>, <c>export</c>, <c>import</c>, <c>report</c>,
/// <c>health</c>), the host's own commands (<c>check</c>: the database's integrity, offline), <c>help</c> and
/// <c>--version</c>. With no subcommand, <c>serve</c>, or only
/// configuration (<c>--Chroma:Port=6000</c>), the program runs the server instead; any other word is an unknown
/// command (exit code 2, with the nearest command suggested).
/// </summary>
internal static class ChromaCli
{
    /// <summary>Gets every subcommand that talks to a server (the host adds its own, such as <c>check</c>).</summary>
    public static IReadOnlyList<ICliCommand> ClientCommands { get; } =
    [
        new SetsCommand(),
        new StatsCommand(),
        new RecommendCommand(),
        new NeighboursCommand(),
        new ExportCommand(),
        new LabelCommand(),
        new ReviewCommand(),
        new PromoteCommand(),
        new ExportLabelsCommand(),
        new ImportCommand(),
        new ReportCommand(),
        new HealthCommand(),
    ];

    /// <summary>The words that print the help.</summary>
    private static readonly string[] HelpWords = ["help", "--help", "-h"];

    /// <summary>The words that print the version.</summary>
    private static readonly string[] VersionWords = ["version", "--version"];

    /// <summary>
    /// Tells whether <paramref name="args"/> ask for a CLI command (rather than running the server,
    /// which takes <c>serve</c>, nothing, or configuration such as <c>--Chroma:Port=6000</c>).
    /// </summary>
    public static bool IsCliCommand(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0 || args[0] == "serve")
        {
            return false;
        }

        // Configuration for the server: --Chroma:Port=6000, --Chroma:Port 6000, /Chroma:Port 6000, Chroma:Port=6000.
        var first = args[0];
        var isConfiguration = (first.StartsWith("--", StringComparison.Ordinal) && first.Contains(':', StringComparison.Ordinal))
            || first.StartsWith('/') || first.Contains('=', StringComparison.Ordinal);
        return HelpWords.Contains(first) || VersionWords.Contains(first) || !isConfiguration;
    }

    /// <summary>Runs one CLI command and returns its exit code; never throws for a user or server error.</summary>
    /// <param name="args">The command line, subcommand first.</param>
    /// <param name="console">Where tables, progress and messages go.</param>
    /// <param name="output">Where <c>--json</c> output and exported rows go.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public static Task<int> RunAsync(
        IReadOnlyList<string> args,
        IAnsiConsole console,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken = default) =>
        RunAsync(args, [], console, output, error, cancellationToken);

    /// <summary>Runs one CLI command, <see cref="ClientCommands"/> or one of <paramref name="hostCommands"/>, and returns its exit code.</summary>
    /// <param name="args">The command line, subcommand first.</param>
    /// <param name="hostCommands">The host's own commands (listed by <c>help</c> after the client commands).</param>
    /// <param name="console">Where tables, progress and messages go.</param>
    /// <param name="output">Where <c>--json</c> output and exported rows go.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="cancellationToken">Cancels the command.</param>
    public static async Task<int> RunAsync(
        IReadOnlyList<string> args,
        IReadOnlyList<ICliCommand> hostCommands,
        IAnsiConsole console,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hostCommands);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        CliContext? context = null;
        try
        {
            if (args.Count > 0 && HelpWords.Contains(args[0]))
            {
                WriteHelp(console, [.. ClientCommands, .. hostCommands]);
                return CliExitCode.Success;
            }

            if (args.Count > 0 && VersionWords.Contains(args[0]))
            {
                await output.WriteLineAsync($"chroma-server {CliVersion.Current}").ConfigureAwait(false);
                return CliExitCode.Success;
            }

            IReadOnlyList<ICliCommand> commands = [.. ClientCommands, .. hostCommands];
            args = CommandFirst(args);
            var command = args.Count > 0 ? commands.FirstOrDefault(c => c.Name == args[0]) : null;
            if (command is null)
            {
                throw new CliUsageException(UnknownCommand(args.Count > 0 ? args[0] : string.Empty, commands));
            }

            if (args.Skip(1).Any(a => a is "--help" or "-h"))
            {
                // `recommend --help` is the command's usage, not a call missing --set (probe V, V13).
                console.MarkupLine($"chroma-server {Markup.Escape(command.Usage)}");
                console.MarkupLine($"[grey]every command also takes {Markup.Escape("[--endpoint http://host:50051] [--api-key KEY] [--trusted-root CA.pem] [--json] [--timeout SECONDS]")}; 'chroma-server help' lists all commands and exit codes[/]");
                return CliExitCode.Success;
            }

            var arguments = CliArguments.Parse(args, CommandOptions.Of(command));
            context = new CliContext(arguments, console, output, error);
            return await command.RunAsync(context, cancellationToken).ConfigureAwait(false);
        }
        catch (CliUsageException ex)
        {
            await error.WriteLineAsync($"chroma-server: {ex.Message}. Run 'chroma-server help' for usage.").ConfigureAwait(false);
            return CliExitCode.Usage;
        }
        catch (Exception ex) when (Status(ex) is { } status && TlsFailure.Describe(status.Detail, status.Debug, context?.Endpoint) is { } tls)
        {
            // Grpc.Net.Client says Internal ("Error starting gRPC call"), but the server never saw the call (probe Q, Q6).
            await error.WriteLineAsync($"chroma-server: could not reach the Chroma server at {context?.Endpoint}: {tls}").ConfigureAwait(false);
            return CliExitCode.Unreachable;
        }
        catch (Exception ex) when (Status(ex) is { } status && status.Code is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
        {
            // The status detail alone ("Error connecting to subchannel.") hides the cause; the socket error names it.
            var cause = status.Debug is { } debug ? $" ({(debug.InnerException ?? debug).Message})" : string.Empty;
            var plainText = TlsFailure.PlainTextHint(status.Detail, status.Debug, context?.Endpoint)
                ?? await PlainTextToTlsListenerAsync(context?.Endpoint).ConfigureAwait(false);
            var hint = plainText is null ? string.Empty : $"; {plainText}";
            await error.WriteLineAsync($"chroma-server: could not reach the Chroma server at {context?.Endpoint}: {status.Detail}{cause}{hint}").ConfigureAwait(false);
            return CliExitCode.Unreachable;
        }
        catch (Exception ex) when (Status(ex) is { Code: StatusCode.Internal } status && context?.Endpoint.Scheme == Uri.UriSchemeHttp && status.Debug is not null
            && !AskedForHttp1(status))
        {
            // A transport failure (the status carries the client's exception; a server's own Internal does not). A plain-text
            // call to a TLS listener can end this way ("the response ended prematurely"), depending on which side wrote
            // first: the listener is asked whether it speaks TLS before the server is blamed.
            if (await PlainTextToTlsListenerAsync(context.Endpoint).ConfigureAwait(false) is { } plainText)
            {
                await error.WriteLineAsync($"chroma-server: could not reach the Chroma server at {context.Endpoint}: {status.Detail}; {plainText}").ConfigureAwait(false);
                return CliExitCode.Unreachable;
            }

            await error.WriteLineAsync($"chroma-server: the server answered {status.Code}: {status.Detail}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (Exception ex) when (Status(ex) is { Code: StatusCode.Internal } status && AskedForHttp1(status))
        {
            // An HTTP/1.1 endpoint (Chroma Studio's port, a plain web server) answers a gRPC call with HTTP_1_1_REQUIRED.
            await error.WriteLineAsync(
                $"chroma-server: {context?.Endpoint} is not a Chroma gRPC endpoint: it asked for HTTP/1.1 (is that Chroma Studio's port, Chroma__Web__Port, rather than the server's, Chroma__Port?)").ConfigureAwait(false);
            return CliExitCode.Unreachable;
        }
        catch (Exception ex) when (Status(ex) is { Code: StatusCode.Unauthenticated } status)
        {
            // "Pass --api-key" only helps when none was passed; a key that was passed is the wrong one for this server.
            var hint = context?.Arguments.Get("api-key") is null ? "pass --api-key" : "the --api-key given is not this server's key (Chroma__ApiKey)";
            await error.WriteLineAsync($"chroma-server: the server at {context?.Endpoint} refused the call: {status.Detail} ({hint})").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (Exception ex) when (Status(ex) is { Code: StatusCode.Unimplemented } status)
        {
            // A server of an earlier version lacks the call (probe T: export-labels against a November server).
            await error.WriteLineAsync(
                $"chroma-server: the server at {context?.Endpoint} does not offer this call (Unimplemented: {status.Detail}); it is likely older than this chroma-server ({CliVersion.Current}): upgrade the server, or use the chroma-server of its version").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (Exception ex) when (Status(ex) is { } status)
        {
            await error.WriteLineAsync($"chroma-server: the server answered {status.Code}: {status.Detail}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (IOException ex)
        {
            await error.WriteLineAsync($"chroma-server: {ex.Message}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (UnauthorizedAccessException ex)
        {
            await error.WriteLineAsync($"chroma-server: {ex.Message}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync("chroma-server: cancelled").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
#pragma warning disable CA1031 // The README promises one line and no stack trace for every failure, including a defect of our own.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            await error.WriteLineAsync($"chroma-server: {(args.Count > 0 ? args[0] : "the command")} failed: {OneLine(ex)}").ConfigureAwait(false);
            return CliExitCode.ServerError;
        }
        finally
        {
            if (context is not null)
            {
                await context.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    // An exception's type and message on one line (ArgumentOutOfRangeException puts "Actual value was ..." on a line of its own).
    private static string OneLine(Exception exception) =>
        $"{exception.GetType().Name}: {string.Join(' ', exception.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}";

    // Whether the call failed because the endpoint speaks HTTP/1.1 only (the HTTP/2 error HTTP_1_1_REQUIRED).
    private static bool AskedForHttp1((StatusCode Code, string Detail, Exception? Debug) status)
    {
        for (var exception = status.Debug; exception is not null; exception = exception.InnerException)
        {
            if (exception.Message.Contains("HTTP_1_1_REQUIRED", StringComparison.Ordinal))
            {
                return true;
            }
        }

        return status.Detail.Contains("HTTP_1_1_REQUIRED", StringComparison.Ordinal);
    }

    // The hint for an http:// endpoint whose listener speaks TLS (asked with a handshake); otherwise null.
    private static async Task<string?> PlainTextToTlsListenerAsync(Uri? endpoint) =>
        endpoint?.Scheme == Uri.UriSchemeHttp && await TlsListenerProbe.SpeaksTlsAsync(endpoint, TimeSpan.FromSeconds(5)).ConfigureAwait(false)
            ? TlsFailure.PlainTextToTlsHint
            : null;

    // A failed call: the client's ChromaException (with the RpcException it came from) or the health client's RpcException.
    private static (StatusCode Code, string Detail, Exception? Debug)? Status(Exception exception) => exception switch
    {
        ChromaException { InnerException: RpcException rpc } => (rpc.StatusCode, rpc.Status.Detail, rpc.Status.DebugException),
        ChromaException chroma => (chroma.StatusCode, chroma.Message, chroma.InnerException),
        RpcException rpc => (rpc.StatusCode, rpc.Status.Detail, rpc.Status.DebugException),
        _ => null,
    };

    /// <summary>
    /// <c>chroma-server --endpoint URL recommend ...</c>: the options every command takes may also come before the command
    /// (probe M, M6: "unknown command '--endpoint'"). They are moved after it; anything else is left as it was.
    /// </summary>
    internal static IReadOnlyList<string> CommandFirst(IReadOnlyList<string> args)
    {
        var leading = new List<string>();
        var i = 0;
        while (i < args.Count && LeadingOptionTakesValue(args[i]) is { } takesValue)
        {
            leading.Add(args[i]);
            if (takesValue && i + 1 < args.Count)
            {
                leading.Add(args[++i]);
            }

            i++;
        }

        return leading.Count == 0 || i >= args.Count ? args : [args[i], .. leading, .. args.Skip(i + 1)];
    }

    // Whether an option every command takes (CommandOptions.Common), written before the command, takes a value; null for
    // anything else (--help is a help word there).
    private static bool? LeadingOptionTakesValue(string word) =>
        word.StartsWith("--", StringComparison.Ordinal) && word[2..] is var name && name != "help" && CommandOptions.Common.Contains(name)
            ? !CliArguments.IsFlag(name)
            : null;

    private static string UnknownCommand(string word, IEnumerable<ICliCommand> commands)
    {
        var known = commands.Select(c => c.Name).Append("serve").Append("help").Append("version");
        var suggestion = CommandSuggestion.Nearest(word, known);
        var trimmed = word.TrimStart('-');
        if (suggestion is null && trimmed.Length > 0 && trimmed != word)
        {
            // --verison: the dashed forms exist for these two only.
            suggestion = CommandSuggestion.Nearest(trimmed, known) is { } nearest
                ? nearest is "version" or "help" ? "--" + nearest : nearest
                : null;
        }

        return suggestion is null
            ? $"unknown command '{word}'"
            : $"unknown command '{word}' (did you mean '{suggestion}'?)";
    }

    private static void WriteHelp(IAnsiConsole console, IEnumerable<ICliCommand> commands)
    {
        console.MarkupLine("[bold]chroma-server[/] [grey][[serve]] [[--Chroma:Name=value ...]][/]  run the server (options: Chroma__* environment variables or --Chroma:Name=value)");
        console.MarkupLine("[bold]chroma-server migrate[/] [grey][[--Chroma:Name=value ...]][/]  bring the database schema up to date and exit (--help for more)");
        console.MarkupLine("[bold]chroma-server[/] [grey]<command> [[--endpoint http://host:50051]] [[--api-key KEY]] [[--trusted-root CA.pem]] [[--json]] [[--timeout SECONDS]][/]");
        console.MarkupLine("[bold]chroma-server[/] [grey]--version[/]");
        var table = new Table().AddColumn("command").AddColumn("usage");
        foreach (var command in commands)
        {
            table.AddRow(command.Name, Markup.Escape(command.Usage));
        }

        console.Write(table);
        var codes = new Table().AddColumn("exit code").AddColumn("meaning");
        foreach (var (code, meaning) in CliExitCode.Meanings)
        {
            codes.AddRow(code.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(meaning));
        }

        console.Write(codes);
    }
}
