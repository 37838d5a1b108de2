using System.Net;
using System.Text.Json;
using Chroma.Protocol.V1;
using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web.Internal;

namespace Chroma.Server.Tests.Web;

/// <summary>
/// Input previews: an image in a record's metadata, or its input file served from <c>Chroma:Web:InputRoot</c>, and
/// nothing outside that folder (<c>..</c>, absolute paths, <c>file:</c> URIs elsewhere, links leading out).
/// </summary>
[TestFixture]
public sealed class StudioPreviewTests
{
    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg==");

    private TempDirectory _root = null!;
    private TempDirectory _outside = null!;

    [SetUp]
    public void CreateFolders()
    {
        _root = new TempDirectory();
        _outside = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(_root.Path, "digits"));
        File.WriteAllBytes(Path.Combine(_root.Path, "digits", "7.png"), Png);
        File.WriteAllText(Path.Combine(_root.Path, "notes.txt"), "not an image");
        File.WriteAllBytes(Path.Combine(_outside.Path, "secret.png"), Png);
        File.CreateSymbolicLink(Path.Combine(_root.Path, "digits", "link.png"), Path.Combine(_outside.Path, "secret.png"));
        File.CreateSymbolicLink(Path.Combine(_root.Path, "notes.png"), Path.Combine(_root.Path, "notes.txt"));
        Directory.CreateSymbolicLink(Path.Combine(_root.Path, "linkdir"), _outside.Path);
        Directory.CreateSymbolicLink(Path.Combine(_root.Path, "inside-link"), Path.Combine(_root.Path, "digits"));
    }

    [TearDown]
    public void DeleteFolders()
    {
        _root.Dispose();
        _outside.Dispose();
    }

    [TestCase("digits/7.png", "digits/7.png")]
    [TestCase("./digits/7.png", "digits/7.png")]
    [TestCase("inside-link/7.png", "inside-link/7.png")]
    public void Resolve_PathInsideRoot_ServesTheImage(string uri, string expected)
    {
        var (path, type, problem) = InputFiles.Resolve(_root.Path, uri);

        Assert.Multiple(() =>
        {
            Assert.That(problem, Is.Null);
            Assert.That(path, Is.EqualTo(Path.Combine(_root.Path, expected)));
            Assert.That(type, Is.EqualTo("image/png"));
        });
    }

    [Test]
    public void Resolve_AbsolutePathAndFileUriInsideRoot_ServesTheImage()
    {
        var absolute = Path.Combine(_root.Path, "digits", "7.png");

        Assert.Multiple(() =>
        {
            Assert.That(InputFiles.Resolve(_root.Path, absolute).Path, Is.EqualTo(absolute));
            Assert.That(InputFiles.Resolve(_root.Path, new Uri(absolute).AbsoluteUri).Path, Is.EqualTo(absolute));
        });
    }

    [TestCase("../secret.png", "'..'")]
    [TestCase("digits/../../secret.png", "'..'")]
    [TestCase("digits\\..\\..\\secret.png", "'..'")]
    [TestCase("/etc/passwd", "outside the input folder")]
    [TestCase("file:///etc/hostname.png", "outside the input folder")]
    [TestCase("file://server/share/x.png", "not a local file URI")]
    [TestCase("http://example.com/x.png", "only paths and file: URIs")]
    [TestCase("notes.txt", "not an image")]
    [TestCase("digits/link.png", "link leading outside")]
    [TestCase("linkdir/secret.png", "link leading outside")]
    [TestCase("digits/8.png", "no such file")]
    [TestCase("notes.png", "a link to a file that is not an image")]
    public void Resolve_OutsideRootOrNotAnImage_Refused(string uri, string expected)
    {
        var (path, _, problem) = InputFiles.Resolve(_root.Path, uri);

        Assert.Multiple(() =>
        {
            Assert.That(path, Is.Null);
            Assert.That(problem, Does.Contain(expected));
        });
    }

    [Test]
    public void Resolve_AbsolutePathToSiblingFolderWithSamePrefix_Refused()
    {
        var sibling = _root.Path + "-evil";
        Directory.CreateDirectory(sibling);
        try
        {
            File.WriteAllBytes(Path.Combine(sibling, "x.png"), Png);

            Assert.That(InputFiles.Resolve(_root.Path, Path.Combine(sibling, "x.png")).Problem, Does.Contain("outside the input folder"));
        }
        finally
        {
            Directory.Delete(sibling, recursive: true);
        }
    }

    [Test]
    public void Open_ImageInsideRoot_ReadsItsBytes()
    {
        using var stream = InputFiles.Open(_root.Path, "digits/7.png", out var type, out var problem, out var missing);

        Assert.Multiple(() =>
        {
            Assert.That(problem, Is.Null);
            Assert.That(missing, Is.False);
            Assert.That(type, Is.EqualTo("image/png"));
        });
        using var copy = new MemoryStream();
        stream!.CopyTo(copy);
        Assert.That(copy.ToArray(), Is.EqualTo(Png));
    }

    [Test]
    public void Open_FileSwappedForALinkOutsideAfterTheCheck_RefusedByWhatTheHandleLeadsTo()
    {
        Assume.That(OperatingSystem.IsLinux(), "the opened handle's path is read from /proc/self/fd");
        var racing = Path.Combine(_root.Path, "digits", "race.png");
        File.WriteAllBytes(racing, Png);
        File.WriteAllText(Path.Combine(_outside.Path, "secret.png"), "outside the input folder");

        // Probe S's S3: the path passes the check as a plain image, and is a link leading out when it is opened.
        using var stream = InputFiles.Open(_root.Path, "digits/race.png", afterCheck: () =>
        {
            File.Delete(racing);
            File.CreateSymbolicLink(racing, Path.Combine(_outside.Path, "secret.png"));
        }, out var type, out var problem, out var missing);

        Assert.Multiple(() =>
        {
            Assert.That(stream, Is.Null);
            Assert.That(type, Is.Null);
            Assert.That(missing, Is.False);
            Assert.That(problem, Does.Contain("a link leading outside the input folder"));
        });
    }

    [Test]
    public void Open_FileSwappedForALinkToANonImageInsideAfterTheCheck_Refused()
    {
        Assume.That(OperatingSystem.IsLinux(), "the opened handle's path is read from /proc/self/fd");
        var racing = Path.Combine(_root.Path, "digits", "race.png");
        File.WriteAllBytes(racing, Png);

        using var stream = InputFiles.Open(_root.Path, "digits/race.png", afterCheck: () =>
        {
            File.Delete(racing);
            File.CreateSymbolicLink(racing, Path.Combine(_root.Path, "notes.txt"));
        }, out _, out var problem, out _);

        Assert.Multiple(() =>
        {
            Assert.That(stream, Is.Null);
            Assert.That(problem, Does.Contain("a link to a file that is not an image"));
        });
    }

    [Test]
    public void Open_FileDeletedAfterTheCheck_MissingNotAnError()
    {
        var racing = Path.Combine(_root.Path, "digits", "race.png");
        File.WriteAllBytes(racing, Png);

        using var stream = InputFiles.Open(_root.Path, "digits/race.png", afterCheck: () => File.Delete(racing), out _, out var problem, out var missing);

        Assert.Multiple(() =>
        {
            Assert.That(stream, Is.Null);
            Assert.That(missing, Is.True);
            Assert.That(problem, Does.Contain("no such file"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Record_PreviewInMetadataOrInputFolder_ShownAndServedButTraversalRefused(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync(o => o.Web.InputRoot = _root.Path);
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var descriptor = new EmbeddingSetDescriptor { Model = "m", ModelVersion = "1", Layer = "l", Dimension = 4 };
        var dataUri = "data:image/png;base64," + Convert.ToBase64String(Png);
        var withMetadata = Records.Make([1, 0, 0, 0], "training", "7", new Dictionary<string, string> { ["preview"] = dataUri });
        var inFolder = Records.Make([1, 0.1f, 0, 0], "training", "7");
        inFolder.InputUri = "digits/7.png";
        var escaping = Records.Make([1, 0.2f, 0, 0], "production");
        escaping.InputUri = "../" + Path.GetFileName(_outside.Path) + "/secret.png";
        var acks = await server.LogAsync(Records.Batch(descriptor, withMetadata, inFolder, escaping));
        Assert.That(acks.Select(a => a.Error?.Message), Has.All.Null);

        var first = await RecordAsync(http, 1, cancellationToken);
        var second = await RecordAsync(http, 2, cancellationToken);
        var third = await RecordAsync(http, 3, cancellationToken);
        var served = await http.GetAsync("/api/input?set=m/1/l&sequence=2", cancellationToken);
        var refused = await http.GetAsync("/api/input?set=m/1/l&sequence=3", cancellationToken);
        var refusedBody = JsonDocument.Parse(await refused.Content.ReadAsStringAsync(cancellationToken)).RootElement.GetProperty("error").GetString();

        Assert.Multiple(async () =>
        {
            Assert.That(first.GetProperty("preview").GetString(), Is.EqualTo(dataUri), "the image in the metadata");
            Assert.That(second.GetProperty("preview").GetString(), Is.EqualTo("/api/input?set=m%2F1%2Fl&sequence=2"), "the file in the input folder");
            Assert.That(third.TryGetProperty("preview", out var none) && none.ValueKind != JsonValueKind.Null, Is.False, "no preview for a path outside");
            Assert.That(third.GetProperty("neighbors").EnumerateArray().Select(n => n.GetProperty("preview").GetString()), Has.Some.EqualTo(dataUri), "neighbours carry their previews");
            Assert.That(served.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(served.Content.Headers.ContentType?.MediaType, Is.EqualTo("image/png"));
            Assert.That(await served.Content.ReadAsByteArrayAsync(cancellationToken), Is.EqualTo(Png));
            Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
            Assert.That(refusedBody, Does.Contain("'..' is not allowed"));
        });
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Input_NoInputRootConfigured_NotFoundNamingTheSetting(CancellationToken cancellationToken)
    {
        await using var server = await RunningServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.WebEndpoint };
        var descriptor = new EmbeddingSetDescriptor { Model = "m", ModelVersion = "1", Layer = "l", Dimension = 4 };
        var record = Records.Make([1, 0, 0, 0]);
        record.InputUri = "digits/7.png";
        await server.LogAsync(Records.Batch(descriptor, record));

        var response = await http.GetAsync("/api/input?set=m/1/l&sequence=1", cancellationToken);

        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(await response.Content.ReadAsStringAsync(cancellationToken), Does.Contain("Chroma:Web:InputRoot"));
        });
    }

    private static async Task<JsonElement> RecordAsync(HttpClient http, long sequence, CancellationToken cancellationToken)
    {
        var json = await http.GetStringAsync($"/api/record?set=m/1/l&sequence={sequence}", cancellationToken);
        return JsonDocument.Parse(json).RootElement;
    }
}
