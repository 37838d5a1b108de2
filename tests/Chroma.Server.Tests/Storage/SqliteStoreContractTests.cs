namespace Chroma.Server.Tests.Storage;

/// <summary>The store contract on SQLite (a file in a temp folder).</summary>
[TestFixture]
public sealed class SqliteStoreContractTests : StoreContractTests
{
    private protected override Task<ITestDatabase> CreateDatabaseAsync() => Task.FromResult<ITestDatabase>(new SqliteTestDatabase());
}
