using NUnit.Framework;
using Chroma.Protocol.V1;
using Chroma.Tests.Support;
using Chroma.Tests.TorchSharp.Support;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp;

/// <summary>A real client (in-memory transport), a real TorchSharp model and an embedding set for its <c>fc1</c> layer.</summary>
public abstract class ModuleCaptureTestBase
{
    protected static readonly string[] ClassNames = ["cat", "dog"];

    private RecordingClient _recording = null!;

    internal ChromaClient Client { get; private set; } = null!;

    internal TinyClassifier Model { get; private set; } = null!;

    internal EmbeddingSet Set { get; private set; } = null!;

    [OneTimeSetUp]
    public void RequireTorch() => TorchNative.RequireLoaded();

    [SetUp]
    public void CreateClientAndModel()
    {
        _recording = new RecordingClient();
        Client = _recording.Client;
        Model = new TinyClassifier();
        Model.eval();
        Set = Client.GetEmbeddingSet(new EmbeddingSetDescriptor("tiny", "1", "fc1", TinyClassifier.EmbeddingWidth), ClassNames);
    }

    [TearDown]
    public async Task DisposeClientAndModel()
    {
        await Client.DisposeAsync();
        Model.Dispose();
    }

    /// <summary>A batch of <paramref name="rows"/> inputs from a fixed seed.</summary>
    protected static Tensor Inputs(int rows, long seed = 11)
    {
        manual_seed(seed);
        return randn(rows, TinyClassifier.InputWidth);
    }

    /// <summary>Every record the client delivered, once everything logged so far is acknowledged.</summary>
    internal async Task<IReadOnlyList<Record>> DeliveredAsync(CancellationToken cancellationToken)
    {
        return await _recording.SentRecordsAsync(cancellationToken);
    }

    /// <summary>Row <paramref name="row"/> of a 2-D tensor.</summary>
    protected static float[] Row(Tensor matrix, int row) => matrix[row].data<float>().ToArray();
}
