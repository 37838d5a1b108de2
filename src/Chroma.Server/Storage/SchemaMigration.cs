using System.Globalization;

namespace Chroma.Server.Storage;

/// <summary>
/// What opening a database did to its schema: the version it found (0 for a new, empty database), the version it left,
/// and how long that took. Told once at start (an upgrade changes a database for good: an older server no longer starts on
/// it) and by <c>chroma-server migrate</c>.
/// </summary>
/// <param name="FromVersion">The schema version the database had; 0 when it was empty (created now).</param>
/// <param name="ToVersion">The schema version it has now.</param>
/// <param name="Elapsed">How long the migration took (zero when there was nothing to do).</param>
internal readonly record struct SchemaMigration(int FromVersion, int ToVersion, TimeSpan Elapsed)
{
    /// <summary>Gets a value indicating whether an existing database was brought to a newer schema.</summary>
    public bool Upgraded => FromVersion > 0 && ToVersion > FromVersion;

    /// <summary>Gets a value indicating whether the database was empty and got its schema now.</summary>
    public bool Created => FromVersion == 0 && ToVersion > 0;

    /// <summary>
    /// One line for an operator: "migrated from schema version 2 to 6 in 12 ms", "created at schema version 6" or
    /// "already at schema version 6".
    /// </summary>
    public string Describe() =>
        Upgraded ? string.Create(CultureInfo.InvariantCulture, $"migrated from schema version {FromVersion} to {ToVersion} in {Elapsed.TotalMilliseconds:F0} ms")
        : Created ? string.Create(CultureInfo.InvariantCulture, $"created at schema version {ToVersion}")
        : string.Create(CultureInfo.InvariantCulture, $"already at schema version {ToVersion}");
}
