using System.Data.Common;
using Npgsql;

namespace Chroma.Server.Storage;

/// <summary>Tells a database outage (unreachable, restarting, connection lost) from other faults.</summary>
internal static class StorageOutage
{
    /// <summary>
    /// Whether <paramref name="exception"/> (or one inside it) is a statement that ran past its command timeout: the
    /// database answered nothing in time (overloaded, or the statement waited on a lock another session holds).
    /// </summary>
    public static bool IsTimeout(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is TimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether <paramref name="exception"/> (or an exception inside it) says the database could not be reached.</summary>
    public static bool Is(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            // Npgsql: a NpgsqlException that is not a PostgresException is a connection or I/O failure; the server
            // refusing work while it shuts down or starts (57P01-57P03) or a lost connection (class 08) is one too.
            if (ex is StoreUnavailableException or DbException { IsTransient: true }
                || (ex is NpgsqlException and not PostgresException)
                || (ex is PostgresException { SqlState: var state } && (state.StartsWith("57P", StringComparison.Ordinal) || state.StartsWith("08", StringComparison.Ordinal))))
            {
                return true;
            }
        }

        return false;
    }
}
