using System.Net;
using System.Net.Http.Json;
using Chroma.Server.Hosting;
using Chroma.Server.Storage;
using Chroma.Testing.Postgres;

namespace Chroma.IntegrationTests.Storage;

/// <summary>
/// Studio's sign-out on replicas sharing one PostgreSQL: a session token is valid on every server with the same API key,
/// so a sign-out through one replica must hold on the others and on a replica started later. Before, each server kept
/// its sign-outs in memory only, and a copied cookie still opened the other replicas.
/// </summary>
[TestFixture]
[Category("postgres")]
public sealed class SignOutAcrossReplicasTests
{
    private const string Key = "sign-out-across-replicas-key";

    [Test, CancelAfter(240_000)]
    public async Task SignOutThroughA_BAndAReplicaStartedLaterRefuseTheCookie(CancellationToken cancellationToken)
    {
        // Arrange: two replicas on one database, and a session signed in through A that B accepts.
        var (connectionString, reason) = await TestPostgres.CreateDatabaseAsync(cancellationToken);
        if (connectionString is null)
        {
            TestPostgres.SkipOrFail(reason);
        }

        try
        {
            HttpStatusCode onBBefore, onBAfter, onCAfter, onAAfter;
            await using (var a = await StartAsync(connectionString!))
            await using (var b = await StartAsync(connectionString!))
            {
                using var viaA = new HttpClient { BaseAddress = a.WebEndpoint };
                var signIn = await viaA.PostAsJsonAsync("/api/session", new { key = Key }, cancellationToken);
                var cookie = signIn.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
                onBBefore = await GetSetsAsync(b, cookie, cancellationToken);

                // Act
                using (var signOut = new HttpRequestMessage(HttpMethod.Delete, "/api/session"))
                {
                    signOut.Headers.Add("Cookie", cookie);
                    using var response = await viaA.SendAsync(signOut, cancellationToken);
                    Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                }

                onAAfter = await GetSetsAsync(a, cookie, cancellationToken);
                onBAfter = await GetSetsAsync(b, cookie, cancellationToken);
                await using var c = await StartAsync(connectionString!);
                onCAfter = await GetSetsAsync(c, cookie, cancellationToken);
            }

            // Assert
            Assert.Multiple(() =>
            {
                Assert.That(onBBefore, Is.EqualTo(HttpStatusCode.OK), "a session from A opens B (same key)");
                Assert.That(onAAfter, Is.EqualTo(HttpStatusCode.Unauthorized));
                Assert.That(onBAfter, Is.EqualTo(HttpStatusCode.Unauthorized), "B refuses a session signed out through A");
                Assert.That(onCAfter, Is.EqualTo(HttpStatusCode.Unauthorized), "and so does a replica started after the sign-out");
            });
        }
        finally
        {
            TestPostgres.DropDatabase(connectionString!);
        }
    }

    private static async Task<HttpStatusCode> GetSetsAsync(ChromaServer server, string cookie, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server.WebEndpoint };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/sets");
        request.Headers.Add("Cookie", cookie);
        using var response = await http.SendAsync(request, cancellationToken);
        return response.StatusCode;
    }

    private static Task<ChromaServer> StartAsync(string connectionString) =>
        PostgresReplica.StartAsync(connectionString, options =>
        {
            options.ApiKey = Key;
            options.Web.Port = 0;
        });
}
