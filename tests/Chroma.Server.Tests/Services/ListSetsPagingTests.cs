extern alias client;

using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Grpc.Core;
using ChromaClient = client::Chroma.ChromaClient;

namespace Chroma.Server.Tests.Services;

/// <summary>
/// ListSets in pages (probe X, X10: a whole listing of about 1,100 sets passed the 4 MiB a stock gRPC client accepts,
/// and the call had no paging): pages in set id order, tokens that survive sets created meanwhile, clear errors.
/// </summary>
[TestFixture]
public sealed class ListSetsPagingTests
{
    private RunningServer _server = null!;

    [SetUp]
    public async Task StartAsync() => _server = await RunningServer.StartAsync(o => { o.Web.Port = 0; o.Limits.MaxPageSize = 4; });

    [TearDown]
    public async Task StopAsync() => await _server.DisposeAsync();

    [Test, CancelAfter(30_000)]
    public async Task Pages_JoinedInOrder_GiveEverySetOnce()
    {
        // Arrange: seven sets, created out of id order
        var models = new[] { "m5", "m1", "m7", "m3", "m2", "m6", "m4" };
        await CreateSetsAsync(models);

        // Act
        var (ids, pages) = await ListInPagesAsync(3);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ids, Is.EqualTo(models.Order(StringComparer.Ordinal).Select(m => $"{m}/1/fc")));
            Assert.That(pages, Is.EqualTo(new[] { 3, 3, 1 }));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Unpaged_ListsEverySetInOrder_WithoutToken()
    {
        // Arrange: more sets than the server's page limit (4)
        await CreateSetsAsync("b", "a", "d", "c", "f", "e");

        // Act
        var response = await _server.Query.ListSetsAsync(new ListSetsRequest());

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(response.Sets.Select(s => s.Descriptor_.Model), Is.EqualTo(new[] { "a", "b", "c", "d", "e", "f" }));
            Assert.That(response.NextPageToken, Is.Empty);
            Assert.That(response.DriftHistoryTrimmed, Is.False);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task PageLargerThanTheServersLimit_AnswersThatMany()
    {
        // Arrange
        await CreateSetsAsync("a", "b", "c", "d", "e", "f");

        // Act
        var response = await _server.Query.ListSetsAsync(new ListSetsRequest { PageSize = 1000 });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(response.Sets, Has.Count.EqualTo(4));
            Assert.That(response.NextPageToken, Is.Not.Empty);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Token_AfterSetsCreatedOnBothSides_NeitherRepeatsNorSkipsTheRest()
    {
        // Arrange: a first page of two, then one set created behind the token and one ahead of it
        await CreateSetsAsync("b", "d", "f", "h");
        var first = await _server.Query.ListSetsAsync(new ListSetsRequest { PageSize = 2 });
        await CreateSetsAsync("a", "e");

        // Act
        var rest = await _server.Query.ListSetsAsync(new ListSetsRequest { PageSize = 0, PageToken = first.NextPageToken });

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(first.Sets.Select(s => s.Descriptor_.Model), Is.EqualTo(new[] { "b", "d" }));
            Assert.That(rest.Sets.Select(s => s.Descriptor_.Model), Is.EqualTo(new[] { "e", "f", "h" }));
            Assert.That(rest.NextPageToken, Is.Empty);
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task BadTokensAndSizes_AnswerInvalidArgument_NamingTheField()
    {
        // Arrange
        await CreateSetsAsync("a", "b", "c");
        await _server.LogAsync(Records.Batch(Records.Set(model: "a"), Records.Sequence(2, start: 1)));
        var token = (await _server.Query.ListSetsAsync(new ListSetsRequest { PageSize = 1 })).NextPageToken;
        var recordsToken = (await _server.Query.GetRecordsAsync(new GetRecordsRequest { SetId = "a/1/fc", PageSize = 1 })).NextPageToken;
        var altered = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1];

        // Act
        var errors = new List<RpcException>();
        foreach (var request in new[]
        {
            new ListSetsRequest { PageToken = altered },
            new ListSetsRequest { PageToken = recordsToken },
            new ListSetsRequest { PageToken = "not a token" },
            new ListSetsRequest { PageSize = -1 },
        })
        {
            errors.Add(Assert.ThrowsAsync<RpcException>(async () => await _server.Query.ListSetsAsync(request))!);
        }

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(errors.Select(e => e.StatusCode), Is.All.EqualTo(StatusCode.InvalidArgument));
            Assert.That(errors[0].Status.Detail, Does.StartWith("page_token: is damaged"));
            Assert.That(errors[1].Status.Detail, Does.Contain("another call (GetRecords)"));
            Assert.That(errors[2].Status.Detail, Does.StartWith("page_token:"));
            Assert.That(errors[3].Status.Detail, Does.StartWith("page_size:"));
        });
    }

    [Test, CancelAfter(30_000)]
    public async Task Client_ListSetsAsync_PagesThroughEverySet()
    {
        // Arrange: more sets than the server answers at a time (4), so the client's 1,000-set asks come back in pages
        var models = Enumerable.Range(0, 11).Select(i => $"s{i:D2}").ToArray();
        await CreateSetsAsync(models);
        await using var client = new ChromaClient(_server.Channel);

        // Act
        var sets = await client.ListSetsAsync();

        // Assert
        Assert.That(sets.Select(s => s.SetId), Is.EqualTo(models.Select(m => $"{m}/1/fc")));
    }

    private async Task CreateSetsAsync(params string[] models)
    {
        foreach (var model in models)
        {
            var acks = await _server.LogAsync(Records.Batch(Records.Set(model: model), Records.Sequence(1)));
            Assert.That(acks.Single().Accepted, Is.EqualTo(1), model);
        }
    }

    private async Task<(List<string> Ids, List<int> Pages)> ListInPagesAsync(int pageSize)
    {
        var ids = new List<string>();
        var pages = new List<int>();
        var token = string.Empty;
        do
        {
            var page = await _server.Query.ListSetsAsync(new ListSetsRequest { PageSize = pageSize, PageToken = token });
            ids.AddRange(page.Sets.Select(s => s.SetId));
            pages.Add(page.Sets.Count);
            token = page.NextPageToken;
        }
        while (token.Length > 0);

        return (ids, pages);
    }
}
