namespace Chroma.Server.Storage;

/// <summary>
/// One opened database seen through its two stores: records (<see cref="IRecordStore"/>) and the
/// recommendation engine's scores (<see cref="IRecordScoreStore"/>). Both share the provider's
/// database object (connections, writer, schema); disposing this closes the record store first
/// (it commits what is queued), then the database.
/// </summary>
internal sealed class RecordStorage : IDisposable
{
    private readonly IDisposable _database;
    private int _disposed;

    /// <summary>Wraps stores opened on <paramref name="database"/>.</summary>
    /// <param name="records">The record store.</param>
    /// <param name="scores">The score store.</param>
    /// <param name="coordination">What replicas sharing the database agree on.</param>
    /// <param name="database">The provider's database object, disposed last.</param>
    /// <param name="reviews">The labeling loop's reviews in the same database when the provider keeps them there (PostgreSQL); null when the server opens its own (SQLite).</param>
    /// <param name="signOuts">Studio's sign-outs in the same database when the provider keeps them there (PostgreSQL); null when the server opens its own (SQLite).</param>
    public RecordStorage(
        IRecordStore records, IRecordScoreStore scores, IReplicaCoordination coordination, IDisposable database, Labeling.IReviewStore? reviews = null, Security.ISignOutStore? signOuts = null)
    {
        Records = records;
        Scores = scores;
        Coordination = coordination;
        Reviews = reviews;
        SignOuts = signOuts;
        _database = database;
    }

    /// <summary>Gets the record store.</summary>
    public IRecordStore Records { get; }

    /// <summary>Gets the score store.</summary>
    public IRecordScoreStore Scores { get; }

    /// <summary>Gets what replicas sharing the database agree on (scoring leases, retention runs).</summary>
    public IReplicaCoordination Coordination { get; }

    /// <summary>Gets the reviews kept in this database for every server sharing it, or null (SQLite: the server opens its own).</summary>
    public Labeling.IReviewStore? Reviews { get; }

    /// <summary>Gets Studio's sign-outs kept in this database for every server sharing it, or null (SQLite: the server opens its own).</summary>
    public Security.ISignOutStore? SignOuts { get; }

    /// <summary>Gets what opening the database did to its schema (the server logs an upgrade once at start).</summary>
    public SchemaMigration Migration { get; init; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Records.Dispose();
        _database.Dispose();
    }
}
