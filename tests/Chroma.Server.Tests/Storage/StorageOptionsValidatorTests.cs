using Chroma.Server.Storage;
using Chroma.Server.Storage.Internal;
using Chroma.Server.Tests.TestSupport;

namespace Chroma.Server.Tests.Storage;

[TestFixture]
public sealed class StorageOptionsValidatorTests
{
    public static IEnumerable<TestCaseData> BadOptions()
    {
        static TestCaseData Case(string name, Action<StorageOptions> breakIt, string fragment) =>
            new TestCaseData(breakIt, fragment).SetName("Validate_" + name + "_FailsNamingTheSetting");

        yield return Case("UndefinedProvider", o => o.Provider = (StorageProvider)7, "Chroma:Storage:Provider (Chroma__Storage__Provider) must be Sqlite or Postgres (got 7)");
        yield return Case("PostgresWithoutConnectionString", o => o.Provider = StorageProvider.Postgres,
            "Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString) must be set when Chroma:Storage:Provider is Postgres");
        yield return Case("SqliteWithConnectionString", o => o.ConnectionString = "Host=db;Password=hunter2",
            "Chroma:Storage:ConnectionString (Chroma__Storage__ConnectionString) is set, but Chroma:Storage:Provider (Chroma__Storage__Provider) is Sqlite, which does not use it");
        yield return Case("UndefinedIntegrityCheck", o => o.IntegrityCheck = (IntegrityCheckMode)9, "Chroma:Storage:IntegrityCheck (Chroma__Storage__IntegrityCheck) must be Off, Quick or Full");
        yield return Case("NegativeStartupTimeout", o => o.StartupTimeout = TimeSpan.FromSeconds(-1),
            "Chroma:Storage:StartupTimeout (Chroma__Storage__StartupTimeout) must be between 00:00:00 and 00:10:00 (got -00:00:01)");
        yield return Case("StartupTimeoutOverTenMinutes", o => o.StartupTimeout = TimeSpan.FromMinutes(11),
            "Chroma:Storage:StartupTimeout (Chroma__Storage__StartupTimeout) must be between 00:00:00 and 00:10:00 (got 00:11:00)");
    }

    [TestCaseSource(nameof(BadOptions))]
    public void Validate_BadStorageOption_FailsNamingIt(Action<StorageOptions> breakIt, string fragment)
    {
        // Arrange
        var options = new StorageOptions();
        breakIt(options);

        // Act
        var problems = ValidatorAssert.Problems(new StorageOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Contain(fragment));
    }

    [Test]
    public void Validate_PostgresConnectionString_NeverQuotedInTheMessage()
    {
        // Arrange: a valid provider with a bad integrity mode, so the message is built while a password is configured.
        var options = new StorageOptions { Provider = StorageProvider.Postgres, ConnectionString = "Host=db;Password=hunter2", IntegrityCheck = (IntegrityCheckMode)9 };

        // Act
        var problems = ValidatorAssert.Problems(new StorageOptionsValidator(), options);

        // Assert
        Assert.That(problems, Does.Not.Contain("hunter2"));
    }

    [Test]
    public void Validate_Defaults_Succeeds() => ValidatorAssert.Valid(new StorageOptionsValidator(), new StorageOptions());
}
