namespace Chroma.Server.Tests.Storage;

/// <summary>The store contract on PostgreSQL (a new database on the test server per test).</summary>
[TestFixture]
[Category("postgres")]
public sealed class PostgresStoreContractTests : StoreContractTests
{
    private protected override async Task<ITestDatabase> CreateDatabaseAsync() => await PostgresTestDatabase.CreateAsync();
}
