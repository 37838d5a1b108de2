using Chroma.Server.Storage.Postgres.Internal;
using Npgsql;

namespace Chroma.Server.Tests.Storage;

/// <summary>What the server adds to the configured connection string, and what it leaves as the string says.</summary>
[TestFixture]
public sealed class PostgresDataSourceTests
{
    private const string Plain = "Host=127.0.0.1;Port=5432;Database=chroma;Username=chroma;Password=pg-secret";

    [Test]
    public void CreateDataSource_NoAutoPrepareSetting_PreparesStatementsByDefault()
    {
        // Act
        using var dataSource = PostgresConnection.CreateDataSource(Plain);

        // Assert
        Assert.That(Settings(dataSource).MaxAutoPrepare, Is.EqualTo(PostgresConnection.DefaultMaxAutoPrepare).And.GreaterThan(0));
    }

    [TestCase("Max Auto Prepare=0", 0)]
    [TestCase("max auto prepare = 0", 0)]
    [TestCase("MaxAutoPrepare=8", 8)]
    public void CreateDataSource_AutoPrepareSet_KeepsTheConfiguredValue(string setting, int expected)
    {
        // Act: 0 is what a PgBouncer in transaction mode before 1.21 needs.
        using var dataSource = PostgresConnection.CreateDataSource($"{Plain};{setting}");

        // Assert
        Assert.That(Settings(dataSource).MaxAutoPrepare, Is.EqualTo(expected));
    }

    [TestCase("Hots=db;Port=5432;Database=chroma;Username=chroma;Password=pg-secret", "Hots")]
    [TestCase("Host=db;Database=chroma;Username=chroma;Pasword=pg-secret", "Pasword")]
    public void CreateDataSource_MisspeltKey_NamesTheKeyAsWrittenAndTheSetting(string connectionString, string key)
    {
        // Act
        var ex = Assert.Throws<Chroma.Server.Storage.StorageStartException>(() => PostgresConnection.CreateDataSource(connectionString));

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.StartWith("Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString): "));
            Assert.That(ex.Message, Does.Contain($"the key '{key}' is not a PostgreSQL connection-string keyword"));
            Assert.That(ex.ToString(), Does.Not.Contain("pg-secret"));
        });
    }

    private static NpgsqlConnectionStringBuilder Settings(NpgsqlDataSource dataSource) => new(dataSource.ConnectionString);
}
