using System.Globalization;
using Npgsql;

namespace Chroma.Server.Storage.Postgres.Internal;

/// <summary>
/// The versioned schema. <see cref="Migrate"/> runs under a session advisory lock: a server that starts
/// while another migrates waits for it, then finds the schema current; each version is applied once
/// (recorded in <c>chroma_schema_migrations</c>, keyed by version, so a second application would fail).
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The schema this server writes.</summary>
    public const int CurrentVersion = 10;

    /// <summary>The advisory lock key every Chroma server migrates under ("chroma" in ASCII).</summary>
    public const long MigrationLockKey = 0x6368726F6D61;

    private const string Version1 = """
        CREATE TABLE embedding_sets (
            set_key       bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            set_id        text    NOT NULL UNIQUE,
            model         text    NOT NULL,
            model_version text    NOT NULL,
            layer         text    NOT NULL,
            dimension     integer NOT NULL,
            created_ms    bigint  NOT NULL,
            updated_ms    bigint  NOT NULL,
            -- The highest sequence given to a record of the set. Writers raise it with an UPDATE in the
            -- transaction that inserts the rows, so the row lock orders them: a reader that sees
            -- sequence n committed also sees every smaller one of the set (no late commit behind a cursor).
            last_sequence bigint  NOT NULL DEFAULT 0
        );
        CREATE TABLE records (
            set_key             bigint  NOT NULL REFERENCES embedding_sets (set_key),
            sequence            bigint  NOT NULL,
            record_id           text    NOT NULL,
            dataset             text    NOT NULL,
            embedding           bytea   NOT NULL,
            input_uri           text,
            predicted_class     text,
            class_probabilities bytea,
            class_names         text,
            label               text,
            metadata            jsonb,
            timestamp_ms        bigint  NOT NULL,
            content_hash        bytea   NOT NULL,
            deleted             boolean NOT NULL DEFAULT false,
            PRIMARY KEY (set_key, sequence),
            UNIQUE (set_key, record_id)
        );
        CREATE INDEX records_by_set_dataset ON records (set_key, dataset, deleted, sequence);
        CREATE TABLE record_scores (
            set_key          bigint           NOT NULL,
            sequence         bigint           NOT NULL,
            training_version text             NOT NULL,
            score            double precision NOT NULL,
            signals          text             NOT NULL,
            reasons          text             NOT NULL,
            measurement      text             NOT NULL,
            scored_ms        bigint           NOT NULL,
            PRIMARY KEY (set_key, sequence),
            FOREIGN KEY (set_key, sequence) REFERENCES records (set_key, sequence)
        );
        CREATE TABLE drift_history (
            id                bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            set_key           bigint           NOT NULL,
            computed_ms       bigint           NOT NULL,
            mmd2              double precision NOT NULL,
            p_value           double precision NOT NULL,
            training_sample   integer          NOT NULL,
            production_sample integer          NOT NULL,
            through_sequence  bigint           NOT NULL
        );
        CREATE INDEX drift_history_by_set ON drift_history (set_key, computed_ms);
        """;

    // Version 2: each set's metric (issue 13). Sets stored before it are L2, which is what they were searched by.
    private const string Version2 = """
        ALTER TABLE embedding_sets ADD COLUMN IF NOT EXISTS metric text NOT NULL DEFAULT 'l2';
        """;

    // Version 3: deletions carry a change sequence of their set (taken from last_sequence under the set's row
    // lock, like inserts), so an index tailing the set by sequence finds them.
    private const string Version3 = """
        ALTER TABLE records ADD COLUMN IF NOT EXISTS deleted_sequence bigint;
        CREATE INDEX IF NOT EXISTS records_deleted_by_set ON records (set_key, deleted_sequence) WHERE deleted_sequence IS NOT NULL;
        """;

    // Version 4: coordination of replicas sharing the database. One scoring lease per set (holder, expiry, and a
    // generation that fences off a previous holder's writes), with the revision and coverage of the stored ranking
    // that every replica polls (with the set's count of deletes, so replicas learn of deletes made elsewhere); and the
    // last retention run per set and dataset.
    private const string Version4 = """
        ALTER TABLE embedding_sets ADD COLUMN IF NOT EXISTS deleted_count bigint NOT NULL DEFAULT 0;
        CREATE TABLE IF NOT EXISTS scoring_leases (
            set_key         bigint PRIMARY KEY REFERENCES embedding_sets (set_key),
            holder          text   NOT NULL,
            expires_ms      bigint NOT NULL,
            generation      bigint NOT NULL,
            scores_revision bigint NOT NULL DEFAULT 0,
            covered_through bigint NOT NULL DEFAULT -1
        );
        CREATE TABLE IF NOT EXISTS retention_runs (
            set_key       bigint NOT NULL REFERENCES embedding_sets (set_key),
            dataset       text   NOT NULL,
            ran_ms        bigint NOT NULL,
            deleted       bigint NOT NULL,
            deleted_total bigint NOT NULL,
            PRIMARY KEY (set_key, dataset)
        );
        """;

    // Version 5: a set's deleted rows. Loading a saved index reads the sequences deleted up to the save ("deleted and
    // sequence <= S"), as does a Studio map update; without it that read scanned the set (1.2 s at a million records).
    private const string Version5 = """
        CREATE INDEX IF NOT EXISTS records_deleted_rows ON records (set_key, sequence) WHERE deleted;
        """;

    // Version 6: with the stored ranking's coverage, how many of the set's deletes (embedding_sets.deleted_count) it has
    // applied, so a request that waits for everything acknowledged before it waits for deletes made through any replica.
    // A ranking stored before it claims none (0), which only makes a waiting request wait for the next pass.
    private const string Version6 = """
        ALTER TABLE scoring_leases ADD COLUMN IF NOT EXISTS deletes_applied bigint NOT NULL DEFAULT 0;
        """;

    // Version 7: labels, review states, promotions and their audit trail (the labeling loop), shared by every replica:
    // before it each server kept them in a SQLite file of its own data directory. review_revisions counts each set's
    // review writes, so a replica knows when its cached list of reviewed records is stale; every write takes that row
    // first, which also orders the set's audit events by commit.
    private const string Version7 = """
        CREATE TABLE IF NOT EXISTS record_reviews (
            set_key            bigint  NOT NULL REFERENCES embedding_sets (set_key),
            sequence           bigint  NOT NULL,
            record_id          text    NOT NULL,
            state              integer NOT NULL DEFAULT 0,
            reviewed_by        text,
            reviewed_ms        bigint  NOT NULL DEFAULT 0,
            label              text,
            labeled_by         text,
            note               text,
            labeled_ms         bigint  NOT NULL DEFAULT 0,
            promoted_record_id text,
            promoted_label     text,
            promoted_by        text,
            promoted_ms        bigint  NOT NULL DEFAULT 0,
            PRIMARY KEY (set_key, sequence)
        );
        CREATE INDEX IF NOT EXISTS record_reviews_reviewed ON record_reviews (set_key, sequence) WHERE state <> 0;
        CREATE INDEX IF NOT EXISTS record_reviews_labeled ON record_reviews (set_key, sequence) WHERE label IS NOT NULL;
        CREATE TABLE IF NOT EXISTS review_events (
            event     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            set_key   bigint NOT NULL REFERENCES embedding_sets (set_key),
            sequence  bigint NOT NULL,
            record_id text   NOT NULL,
            action    text   NOT NULL,
            actor     text   NOT NULL,
            at_ms     bigint NOT NULL,
            detail    text
        );
        CREATE INDEX IF NOT EXISTS review_events_by_set ON review_events (set_key, event);
        CREATE INDEX IF NOT EXISTS review_events_by_record ON review_events (set_key, record_id, event);
        CREATE TABLE IF NOT EXISTS review_revisions (
            set_key  bigint PRIMARY KEY REFERENCES embedding_sets (set_key),
            revision bigint NOT NULL
        );
        """;

    // Version 8: Studio sessions signed out before they expired (the SHA-256 of the token, and its expiry), so a sign-out
    // through one replica holds on every replica and after restarts (Security.PostgresSignOutStore).
    private const string Version8 = """
        CREATE TABLE IF NOT EXISTS studio_sign_outs (
            token_digest text   PRIMARY KEY,
            expires_ms   bigint NOT NULL
        );
        CREATE INDEX IF NOT EXISTS studio_sign_outs_by_expiry ON studio_sign_outs (expires_ms);
        """;

    // Version 9: why the holder's last scoring pass of a set failed (cleared by the next published pass), so every replica
    // reports it and requests waiting there for that pass's ranking end at once (ScoringScheduler.Replicas); and when the
    // holder computed its last published ranking, so every replica reports the same computed_unix_ms for it.
    private const string Version9 = """
        ALTER TABLE scoring_leases ADD COLUMN IF NOT EXISTS failure_message text;
        ALTER TABLE scoring_leases ADD COLUMN IF NOT EXISTS failure_ms bigint NOT NULL DEFAULT 0;
        ALTER TABLE scoring_leases ADD COLUMN IF NOT EXISTS failure_count integer NOT NULL DEFAULT 0;
        ALTER TABLE scoring_leases ADD COLUMN IF NOT EXISTS failure_stored_at_start bigint NOT NULL DEFAULT 0;
        ALTER TABLE scoring_leases ADD COLUMN IF NOT EXISTS failure_deletes_at_start bigint NOT NULL DEFAULT 0;
        ALTER TABLE scoring_leases ADD COLUMN IF NOT EXISTS computed_ms bigint NOT NULL DEFAULT 0;
        """;

    // Version 10: every score write takes a stamp (one per write, from a sequence, after the lease check, so a set's stamps
    // grow in commit order: only its lease holder writes its scores, one write at a time), so a replica that serves what
    // the holder stored reads only the rows written since its last read (IScoreChangeReader) instead of the whole
    // ranking after every pass (outside-in probe H, H3). Rows stored before it have stamp 0 and are read by the first
    // full read. A server of an earlier version still running beside a new one (a rolling upgrade: it checks the schema
    // only at its start) writes scores without a stamp: its inserts take one from the column's default and its updates
    // from the trigger, so the new replicas read them too (outside-in probe I, F1). A new server sets the stamp itself,
    // and changes it on update, so the trigger's condition spares it the call.
    private const string Version10 = """
        CREATE SEQUENCE IF NOT EXISTS record_score_stamps;
        ALTER TABLE record_scores ADD COLUMN IF NOT EXISTS stamp bigint NOT NULL DEFAULT 0;
        ALTER TABLE record_scores ALTER COLUMN stamp SET DEFAULT nextval('record_score_stamps');
        CREATE INDEX IF NOT EXISTS record_scores_by_stamp ON record_scores (set_key, stamp);
        CREATE OR REPLACE FUNCTION record_scores_restamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.stamp := nextval('record_score_stamps');
            RETURN NEW;
        END
        $$;
        DROP TRIGGER IF EXISTS record_scores_restamp ON record_scores;
        CREATE TRIGGER record_scores_restamp BEFORE UPDATE ON record_scores
            FOR EACH ROW WHEN (NEW.stamp = OLD.stamp) EXECUTE FUNCTION record_scores_restamp();
        """;

    private static readonly string[] Steps = [Version1, Version2, Version3, Version4, Version5, Version6, Version7, Version8, Version9, Version10];

    /// <summary>
    /// Brings the database to <see cref="CurrentVersion"/> under the migration lock; returns the
    /// versions this call applied (empty when another server had done it).
    /// </summary>
    public static IReadOnlyList<int> Migrate(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        using var connection = dataSource.OpenConnection();
        Execute(connection, null, string.Create(CultureInfo.InvariantCulture, $"SELECT pg_advisory_lock({MigrationLockKey});"));
        try
        {
            Execute(connection, null, """
                CREATE TABLE IF NOT EXISTS chroma_schema_migrations (
                    version    integer     PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now(),
                    applied_by text        NOT NULL
                );
                """);
            var version = ReadVersion(connection);
            if (version > CurrentVersion)
            {
                throw new StorageStartException(string.Create(CultureInfo.InvariantCulture,
                    $"The PostgreSQL database was written by a newer Chroma server (schema {version}; this server knows up to {CurrentVersion})."));
            }

            var applied = new List<int>();
            for (var next = version + 1; next <= CurrentVersion; next++)
            {
                using var transaction = connection.BeginTransaction();
                Execute(connection, transaction, Steps[next - 1]);
                using (var record = new NpgsqlCommand("INSERT INTO chroma_schema_migrations (version, applied_by) VALUES ($1, $2);", connection, transaction))
                {
                    record.Parameters.Add(new NpgsqlParameter { Value = next });
                    record.Parameters.Add(new NpgsqlParameter { Value = $"{Environment.MachineName}/{Environment.ProcessId}" });
                    record.ExecuteNonQuery();
                }

                transaction.Commit();
                applied.Add(next);
            }

            return applied;
        }
        finally
        {
            // A cut connection (PostgreSQL restarted) has lost its session and the lock with it; unlocking would only
            // replace the error that says what happened by "Connection is not open".
            if (connection.State == System.Data.ConnectionState.Open)
            {
                Execute(connection, null, string.Create(CultureInfo.InvariantCulture, $"SELECT pg_advisory_unlock({MigrationLockKey});"));
            }
        }
    }

    /// <summary>
    /// <see cref="Migrate"/>'s result as a <see cref="SchemaMigration"/>: the versions applied are consecutive, so the
    /// database was at the one before the first; none applied means it was current already.
    /// </summary>
    public static SchemaMigration Describe(IReadOnlyList<int> applied, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(applied);
        return applied.Count == 0
            ? new SchemaMigration(CurrentVersion, CurrentVersion, TimeSpan.Zero)
            : new SchemaMigration(applied[0] - 1, applied[^1], elapsed);
    }

    /// <summary>The highest applied version (0 for an empty database).</summary>
    public static int ReadVersion(NpgsqlConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM chroma_schema_migrations;", connection);
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.ExecuteNonQuery();
    }
}
