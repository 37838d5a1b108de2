using NUnit.Framework;

namespace Chroma.Testing.Postgres;

/// <summary>The test-framework side of <see cref="TestPostgres"/> (linked into the NUnit test projects only, not the benchmarks).</summary>
public static partial class TestPostgres
{
    /// <summary>
    /// Ends a test that needs PostgreSQL when none could be started (<paramref name="reason"/> says why): failed under
    /// CI (<c>CI=true</c>, where <c>.ci/run</c> installs PostgreSQL, so a missing server is a broken run), ignored
    /// elsewhere.
    /// </summary>
    public static void SkipOrFail(string? reason)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail("PostgreSQL tests must run under CI: " + reason);
        }

        Assert.Ignore("PostgreSQL tests skipped: " + reason);
    }
}
