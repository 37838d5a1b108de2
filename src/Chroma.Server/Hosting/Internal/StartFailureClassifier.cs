using System.Net.Sockets;
using Chroma.Server.Storage;
using Chroma.Server.Storage.Sqlite;
using Chroma.Server.Security;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// Turns what went wrong while a server started into one <see cref="ChromaServerStartException"/> whose message is one
/// line naming the setting or file, so neither the embedded caller nor the standalone process sees a stack trace.
/// </summary>
internal static class StartFailureClassifier
{
    /// <summary>The prefix of every message about the TLS settings (they name the certificate files).</summary>
    public const string CertificateSettingPrefix = "Chroma:Certificate:";

    // SQLite primary result codes (https://sqlite.org/rescode.html).
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    /// <summary>
    /// The start failure <paramref name="exception"/> stands for, or <see langword="null"/> when it is none this
    /// classifier knows (a bug: let it surface as it is).
    /// </summary>
    public static ChromaServerStartException? Classify(Exception exception, ChromaServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(options);
        var database = DatabasePath(options);
        return exception switch
        {
            ChromaServerStartException start => start,
            OptionsValidationException invalid => FromValidation([invalid]),
            AggregateException { InnerExceptions: var inner } when inner.Count > 0 && inner.All(e => e is OptionsValidationException)
                => FromValidation([.. inner.Cast<OptionsValidationException>()]),
            StorageStartException storage => new(ChromaServerStartFailure.Setting, OneLine(storage.Message), storage),
            DatabaseDamagedException damaged => new(ChromaServerStartFailure.Database, OneLine(damaged.Message), damaged),

            // The store opened, then PostgreSQL went away before the start was done (a restart): the same exit as a
            // database that cannot be reached at open, so an orchestrator starts the server again.
            NpgsqlException postgres => new(
                ChromaServerStartFailure.Setting,
                $"lost the connection to PostgreSQL while starting ({OneLine(Innermost(postgres).Message)}); it may be restarting: start the server again",
                postgres),
            ArgumentException argument when argument.Message.StartsWith(CertificateSettingPrefix, StringComparison.Ordinal)
                => new(ChromaServerStartFailure.Certificate, OneLine(StripParameterName(argument)), argument),
            ArgumentException argument => new(ChromaServerStartFailure.Setting, OneLine(StripParameterName(argument)), argument),
            SqliteException { SqliteErrorCode: SqliteCorrupt or SqliteNotADatabase } sqlite => new(
                ChromaServerStartFailure.Database,
                $"the database \"{database}\" is damaged ({OneLine(sqlite.Message)}); restore it from a backup or move it away to start empty",
                sqlite),
            SqliteException sqlite => new(
                ChromaServerStartFailure.DataDirectory,
                $"the database \"{database}\" could not be opened or written ({OneLine(sqlite.Message)}); check the DataDirectory setting, permissions and free space",
                sqlite),
            InvalidOperationException newer when newer.Message.Contains("newer Chroma server", StringComparison.Ordinal) => new(
                ChromaServerStartFailure.Database, $"the database \"{database}\": {OneLine(newer.Message)}", newer),
            // EADDRNOTAVAIL: the host is an address this machine does not have; no port would help.
            _ when IsBindFailure(exception) && HasSocketError(exception, SocketError.AddressNotAvailable) => new(
                ChromaServerStartFailure.Address,
                $"could not listen on {options.Host} ({OneLine(Innermost(exception).Message)}): this machine has no such address; set Chroma:Host (Chroma__Host) to one of its addresses, \"localhost\" or \"*\"",
                exception),
            _ when IsBindFailure(exception) && IsWebPort(exception, options, out var webPort) => new(
                ChromaServerStartFailure.Address,
                $"could not listen on {options.Host}:{webPort} for Studio, the web app ({OneLine(Innermost(exception).Message)}); set Chroma:Web:Port (Chroma__Web__Port) to a free port, 0 to pick one, or Chroma:Web:Enabled to false",
                exception),
            _ when IsBindFailure(exception) => new(
                ChromaServerStartFailure.Address,
                $"could not listen on {options.Host}:{options.Port} ({OneLine(Innermost(exception).Message)}); set Chroma:Port (Chroma__Port) to a free port",
                exception),
            UnauthorizedAccessException or IOException => new(ChromaServerStartFailure.DataDirectory, DataDirectoryProblem(options, exception), exception),
            _ => null,
        };
    }

    // Bad settings found by the options validators (ValidateOnStart): one line listing every problem, each naming its
    // setting's full path. Only the certificate's are a certificate failure (exit code 6).
    private static ChromaServerStartException FromValidation(IReadOnlyList<OptionsValidationException> failures)
    {
        var message = OneLine(string.Join("; ", failures.SelectMany(f => f.Failures)));
        var kind = failures.All(f => f.OptionsType == typeof(CertificateOptions)) ? ChromaServerStartFailure.Certificate : ChromaServerStartFailure.Setting;
        return new ChromaServerStartException(kind, message, failures.Count == 1 ? failures[0] : new AggregateException(failures));
    }

    // The operating system's message names a file ("Could not find file '/proc/chroma'", "The file '...' already exists"):
    // say which setting it is and, where the path itself is the cause, what is wrong with it.
    private static string DataDirectoryProblem(ChromaServerOptions options, Exception exception)
    {
        const string Setting = "Chroma:DataDirectory (Chroma__DataDirectory)";
        var directory = Path.GetFullPath(options.DataDirectory);
        if (FileInTheWay(directory) is { } file)
        {
            return file == directory
                ? $"the data directory \"{directory}\" is a file, not a directory; set {Setting} to a directory (it is created when missing)"
                : $"the data directory \"{directory}\" cannot be created: \"{file}\" is a file, not a directory; set {Setting} to a directory (it is created when missing)";
        }

        var cause = OneLine(exception.Message);
        return Directory.Exists(directory)
            ? $"the data directory \"{directory}\" could not be used ({cause}); check its permissions and free space, or set {Setting} to another directory"
            : $"the data directory \"{directory}\" could not be created ({cause}); set {Setting} to a directory this server may create and write";
    }

    // The path itself, or the nearest of its parents that exists, when that is a file.
    private static string? FileInTheWay(string directory)
    {
        for (var path = directory; !string.IsNullOrEmpty(path); path = Path.GetDirectoryName(path))
        {
            if (File.Exists(path))
            {
                return path;
            }

            if (Directory.Exists(path))
            {
                return null;
            }
        }

        return null;
    }

    private static string DatabasePath(ChromaServerOptions options)
    {
        try
        {
            return Path.Combine(Path.GetFullPath(options.DataDirectory), SqliteDatabase.FileName);
        }
        catch (ArgumentException)
        {
            return Path.Combine(options.DataDirectory, SqliteDatabase.FileName);
        }
    }

    // Kestrel reports a taken port as IOException(AddressInUseException) and a forbidden one as IOException(SocketException).
    private static bool IsBindFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException || e.GetType().Name == "AddressInUseException")
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasSocketError(Exception exception, SocketError error)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket && socket.SocketErrorCode == error)
            {
                return true;
            }
        }

        return false;
    }

    // Whether the address Kestrel failed to bind ("Failed to bind to address http://127.0.0.1:50052: ...") is the web
    // app's port rather than the gRPC port, so the message names the setting that frees it.
    private static bool IsWebPort(Exception exception, ChromaServerOptions options, out int webPort)
    {
        webPort = options.Web.ResolvePort(options.Port);
        if (!options.Web.Enabled || webPort == 0 || webPort == options.Port)
        {
            return false;
        }

        var expected = string.Create(System.Globalization.CultureInfo.InvariantCulture, $":{webPort}:");
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e.Message.Contains("Failed to bind to address", StringComparison.Ordinal) && e.Message.Contains(expected, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Innermost(Exception exception)
    {
        var e = exception;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    // ArgumentException appends " (Parameter 'options')", which means nothing to someone reading a setting's problem.
    private static string StripParameterName(ArgumentException exception) =>
        exception.ParamName is { } name ? exception.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : exception.Message;

    private static string OneLine(string text) => text.ReplaceLineEndings(" ").Trim();
}
