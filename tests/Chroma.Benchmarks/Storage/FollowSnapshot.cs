using System.Diagnostics;
using System.Globalization;

namespace Chroma.Benchmarks.Storage;

/// <summary>
/// What <c>replica-follow</c> reads at the start and at the end of its ingest: each replica's CPU (/proc) and scoring
/// log lines so far, PostgreSQL's and this process's CPU, and the set's scoring lease row (holder, scores_revision).
/// </summary>
internal sealed class FollowSnapshot
{
    private readonly string _connectionString;
    private readonly string _setId;

    public FollowSnapshot(ReplicaProcess a, ReplicaProcess b, string connectionString, string setId)
    {
        _connectionString = connectionString;
        _setId = setId;
        Taken = Stopwatch.GetElapsedTime(0);
        Replicas = [new ReplicaState("A", a), new ReplicaState("B", b)];
        Postgres = PostgresClusterCpu.Read(new Npgsql.NpgsqlConnectionStringBuilder(connectionString).Port);
        Client = Process.GetCurrentProcess().TotalProcessorTime;
    }

    public TimeSpan Taken { get; }

    public ReplicaState[] Replicas { get; }

    public TimeSpan Postgres { get; }

    /// <summary>This process: the ingest and query clients.</summary>
    public TimeSpan Client { get; }

    public string Holder { get; private set; } = "(no lease)";

    public long Revision { get; private set; }

    public async Task ReadLeaseAsync()
    {
        var connection = new Npgsql.NpgsqlConnection(_connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync().ConfigureAwait(false);
            var command = new Npgsql.NpgsqlCommand(
                "SELECT l.holder, l.scores_revision FROM scoring_leases l JOIN embedding_sets s ON s.set_key = l.set_key WHERE s.set_id = @id", connection);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.AddWithValue("id", _setId);
                var reader = await command.ExecuteReaderAsync().ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    if (await reader.ReadAsync().ConfigureAwait(false))
                    {
                        Holder = reader.GetString(0);
                        Revision = reader.GetInt64(1);
                    }
                }
            }
        }
    }

    /// <summary>Whether the lease row names <paramref name="replica"/>'s process (the holder is "machine/pid/tag").</summary>
    public bool Holds(ReplicaState replica) =>
        Holder.Contains(string.Create(CultureInfo.InvariantCulture, $"/{replica.Process.ProcessId}/"), StringComparison.Ordinal);

    /// <summary>One replica at the moment of the snapshot.</summary>
    internal sealed class ReplicaState(string name, ReplicaProcess process)
    {
        public string Name { get; } = name;

        public ReplicaProcess Process { get; } = process;

        public TimeSpan Cpu { get; } = process.Cpu();

        public (int Rows, double Ms)[] Passes { get; } = ScoringLogLines.Passes(process);

        public (int Rows, double Ms)[] Follows { get; } = ScoringLogLines.Follows(process);
    }
}
