using Chroma.Server.Diagnostics.Internal;

namespace Chroma.Server.Tests.Diagnostics;

/// <summary>Client text in a log line cannot forge lines of its own (security probe F6).</summary>
[TestFixture]
public sealed class LogTextTests
{
    [TestCase("batch-7", "batch-7")]
    [TestCase("zz\nfail: Chroma.Server[999]\n      FORGED", "zz\\nfail: Chroma.Server[999]\\n      FORGED")]
    [TestCase("a\rb\tc\u001b[31md\u2028e", "a\\rb\\tc\\u001b[31md\\u2028e")]
    public void Safe_ControlCharacters_WrittenAsEscapesOnOneLine(string text, string expected) =>
        Assert.That(new ClientText(text).ToString(), Is.EqualTo(expected));

    [Test]
    public void Safe_LongText_CutAndMarked()
    {
        var safe = LogText.Safe(new string('x', 5_000));

        Assert.That(safe, Does.StartWith(new string('x', LogText.MaxLength)).And.EndWith("… (5000 characters)"));
    }
}
