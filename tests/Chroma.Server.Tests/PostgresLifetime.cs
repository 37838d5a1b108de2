using Chroma.Testing.Postgres;

namespace Chroma.Server.Tests;

/// <summary>Stops the private PostgreSQL (if a test started one) when the assembly's tests are done.</summary>
[SetUpFixture]
public sealed class PostgresLifetime
{
    [OneTimeTearDown]
    public void StopPostgres() => TestPostgres.Stop();
}
