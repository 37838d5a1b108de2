using Chroma.Server.Validation;

namespace Chroma.Server.Tests.Validation;

[TestFixture]
public sealed class RecordIdFormatTests
{
    [TestCase("0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b", ExpectedResult = true, TestName = "IsCanonical_Version7_True")]
    [TestCase("0190A5B2-7C3D-7E4F-8A9B-0C1D2E3F4A5B", ExpectedResult = true, TestName = "IsCanonical_UpperCase_True")]
    [TestCase("00000000-0000-0000-0000-000000000000", ExpectedResult = true, TestName = "IsCanonical_Nil_True")]
    [TestCase("0190a5b27c3d7e4f8a9b0c1d2e3f4a5b", ExpectedResult = false, TestName = "IsCanonical_NoHyphens_False")]
    [TestCase("{0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b}", ExpectedResult = false, TestName = "IsCanonical_Braces_False")]
    [TestCase("0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5g", ExpectedResult = false, TestName = "IsCanonical_NonHex_False")]
    [TestCase("0190a5b2-7c3d7-e4f-8a9b-0c1d2e3f4a5b", ExpectedResult = false, TestName = "IsCanonical_HyphenMoved_False")]
    [TestCase("", ExpectedResult = false, TestName = "IsCanonical_Empty_False")]
    public bool IsCanonical_Cases(string id) => RecordIdFormat.IsCanonical(id);

    [Test]
    public void Normalize_UpperCase_ReturnsLowerCase()
    {
        // Act
        var normalized = RecordIdFormat.Normalize("0190A5B2-7C3D-7E4F-8A9B-0C1D2E3F4A5B");

        // Assert
        Assert.That(normalized, Is.EqualTo("0190a5b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b"));
    }
}
