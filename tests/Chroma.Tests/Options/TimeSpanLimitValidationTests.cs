using Chroma.Tests.Support;

namespace Chroma.Tests.Options;

/// <summary>
/// Time spans beyond what .NET's timers take (about 49.7 days; Polly's retry delays: 1 day) are refused when the client
/// is built, naming the option. They passed validation before, and then: a FlushInterval stopped the batching loop at the
/// first open batch (nothing delivered, a flush never returned), an AckTimeout stopped the sender, a DrainTimeout made
/// DisposeAsync throw, a DropLogInterval or a retry delay failed the constructor with an error naming none of them.
/// </summary>
[TestFixture]
public sealed class TimeSpanLimitValidationTests
{
    private static readonly TimeSpan s_overTimerLimit = TimeSpan.FromDays(60);

    [TestCase(nameof(ChromaClientOptions.FlushInterval))]
    [TestCase(nameof(ChromaClientOptions.AckTimeout))]
    [TestCase(nameof(ChromaClientOptions.DrainTimeout))]
    [TestCase(nameof(ChromaClientOptions.DropLogInterval))]
    public void Validate_TimeSpanOverTheTimerLimit_ThrowsNamingTheOption(string option)
    {
        // Arrange
        var options = new ChromaClientOptions { Endpoint = new Uri("http://127.0.0.1:1") };
        typeof(ChromaClientOptions).GetProperty(option)!.SetValue(options, s_overTimerLimit);

        // Act
        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        // Assert
        Assert.Multiple(() =>
        {
            Assert.That(ex!.ParamName, Is.EqualTo(option));
            Assert.That(ex.Message, Does.Contain(option));
        });
    }

    [TestCase(nameof(ChromaRetryOptions.BaseDelay))]
    [TestCase(nameof(ChromaRetryOptions.MaxDelay))]
    public void Validate_RetryDelayOverADay_ThrowsNamingTheOption(string option)
    {
        // Arrange
        var retry = new ChromaRetryOptions { MaxDelay = TimeSpan.FromDays(2) };
        if (option == nameof(ChromaRetryOptions.BaseDelay))
        {
            retry.BaseDelay = TimeSpan.FromDays(2);
        }

        var options = new ChromaClientOptions { Endpoint = new Uri("http://127.0.0.1:1"), Retry = retry };

        // Act
        var ex = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);

        // Assert
        Assert.That(ex!.ParamName, Is.EqualTo(option));
    }

    [Test, CancelAfter(20_000)]
    public async Task Client_LongestTimeSpansAllowed_DeliversFlushesAndDisposes(CancellationToken cancellationToken)
    {
        // Arrange: every time span at the largest value validation lets through.
        var sessions = new ScriptedIngestSessions();
        var client = TestClients.Create(sessions, o =>
        {
            o.FlushInterval = ChromaClientOptions.MaxTimeSpan;
            o.AckTimeout = ChromaClientOptions.MaxTimeSpan;
            o.DrainTimeout = ChromaClientOptions.MaxTimeSpan;
            o.DropLogInterval = ChromaClientOptions.MaxTimeSpan;
            o.Retry = new ChromaRetryOptions { BaseDelay = TimeSpan.FromDays(1), MaxDelay = TimeSpan.FromDays(1) };
        });
        var set = client.Set();

        // Act
        set.LogTraining([1, 0, 0, 0], "0");
        await client.FlushAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
        set.LogTraining([2, 0, 0, 0], "0");
        await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);

        // Assert
        Assert.That(client.Statistics.Exported, Is.EqualTo(2));
    }
}
