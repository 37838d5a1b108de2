namespace Chroma.Server.Storage.Sqlite;

/// <summary>The bounded drift history of each set.</summary>
internal sealed partial class SqliteScoreStore
{
    /// <inheritdoc />
    public async Task SaveDriftAsync(
        StoredEmbeddingSet set, DriftPoint point, int keep, TimeSpan spacing = default, ScoringLease? lease = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(point);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(spacing, TimeSpan.Zero);
        using var writeLock = await _database.EnterWriteAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = _database.Writer.BeginTransaction();
        if (spacing > TimeSpan.Zero)
        {
            using var replace = _database.Writer.CreateCommand();
            replace.Transaction = transaction;
            replace.CommandText = DriftHistorySpacing.DeleteNewestSqlite;
            replace.Parameters.AddWithValue("$set", set.Key);
            replace.Parameters.AddWithValue("$spacing", (long)spacing.TotalMilliseconds);
            replace.ExecuteNonQuery();
        }

        using var command = _database.Writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO drift_history (set_key, computed_ms, mmd2, p_value, training_sample, production_sample, through_sequence)
            VALUES ($set, $computed, $mmd2, $p, $training, $production, $through);
            DELETE FROM drift_history WHERE set_key = $set AND rowid NOT IN
                (SELECT rowid FROM drift_history WHERE set_key = $set ORDER BY computed_ms DESC, rowid DESC LIMIT $keep);
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$computed", point.ComputedUnixMs);
        command.Parameters.AddWithValue("$mmd2", point.Mmd2);
        command.Parameters.AddWithValue("$p", point.PValue);
        command.Parameters.AddWithValue("$training", point.TrainingSample);
        command.Parameters.AddWithValue("$production", point.ProductionSample);
        command.Parameters.AddWithValue("$through", point.ThroughSequence);
        command.Parameters.AddWithValue("$keep", keep);
        command.ExecuteNonQuery();
        transaction.Commit();
    }

    /// <inheritdoc />
    public IReadOnlyList<DriftPoint> ReadDriftHistory(StoredEmbeddingSet set, int limit)
    {
        ArgumentNullException.ThrowIfNull(set);
        using var connection = _database.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT computed_ms, mmd2, p_value, training_sample, production_sample, through_sequence FROM drift_history
            WHERE set_key = $set ORDER BY computed_ms DESC, rowid DESC LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$set", set.Key);
        command.Parameters.AddWithValue("$limit", limit);
        var points = new List<DriftPoint>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            points.Add(new DriftPoint(reader.GetInt64(0), reader.GetDouble(1), reader.GetDouble(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt64(5)));
        }

        points.Reverse();
        return points;
    }
}
