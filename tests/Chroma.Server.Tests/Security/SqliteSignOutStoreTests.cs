using Chroma.Server.Security;
using Chroma.Server.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace Chroma.Server.Tests.Security;

/// <summary>Studio's sign-outs in a real SQLite file: kept across a reopen, pruned once expired, only digests stored.</summary>
[TestFixture]
public sealed class SqliteSignOutStoreTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 12, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task ContainsAsync_AfterAddAndAReopenOfTheFile_TrueForThatDigestOnly()
    {
        using var data = new TempDirectory();
        await SqliteSignOutStore.Open(data.Path).AddAsync("digest-a", Now.AddHours(1), Now);

        var reopened = SqliteSignOutStore.Open(data.Path);

        Assert.Multiple(async () =>
        {
            Assert.That(await reopened.ContainsAsync("digest-a"), Is.True);
            Assert.That(await reopened.ContainsAsync("digest-b"), Is.False);
        });
    }

    [Test]
    public async Task AddAsync_SameDigestTwiceThenAnotherAfterTheFirstExpired_FirstIsPrunedSecondKept()
    {
        using var data = new TempDirectory();
        var store = SqliteSignOutStore.Open(data.Path);
        await store.AddAsync("early", Now.AddMinutes(5), Now);
        await store.AddAsync("early", Now.AddMinutes(5), Now);

        // A sign-out after the first token's expiry deletes its row: the token is refused by its expiry anyway.
        await store.AddAsync("late", Now.AddHours(12), Now.AddMinutes(6));

        Assert.Multiple(async () =>
        {
            Assert.That(await store.ContainsAsync("early"), Is.False);
            Assert.That(await store.ContainsAsync("late"), Is.True);
            Assert.That(Rows(data.Path), Is.EqualTo(1));
        });
    }

    [Test]
    public void Open_BlankDirectory_ThrowsNamingIt()
    {
        Assert.That(() => SqliteSignOutStore.Open(" "), Throws.ArgumentException.With.Property("ParamName").EqualTo("dataDirectory"));
    }

    private static long Rows(string directory)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(directory, "chroma.db")};Pooling=False");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM studio_sign_outs;";
        return (long)count.ExecuteScalar()!;
    }
}
