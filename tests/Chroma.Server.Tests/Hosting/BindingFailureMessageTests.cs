using Chroma.Server.Hosting.Internal;

namespace Chroma.Server.Tests.Hosting;

[TestFixture]
public sealed class BindingFailureMessageTests
{
    [TestCase(
        "Failed to convert configuration value 'Postgress' at 'Chroma:Storage:Provider' to type 'Chroma.Server.Storage.StorageProvider'.",
        "Chroma:Storage:Provider (Chroma__Storage__Provider): 'Postgress' is not valid; it takes one of Sqlite, Postgres (any case).")]
    [TestCase(
        "Failed to convert configuration value 'soon' at 'Chroma:Storage:StartupTimeout' to type 'System.TimeSpan'.",
        "Chroma:Storage:StartupTimeout (Chroma__Storage__StartupTimeout): 'soon' is not valid; it takes a time span such as 00:00:30 (hh:mm:ss) or 1.00:00:00 (a day).")]
    [TestCase(
        "Failed to convert configuration value 'x' at 'Chroma:Port' to type 'System.Int32'.",
        "Chroma:Port (Chroma__Port): 'x' is not valid; it takes a whole number.")]
    public void Describe_BinderMessage_NamesSettingEnvironmentVariableAndWhatItTakes(string binder, string expected) =>
        Assert.That(BindingFailureMessage.Describe(binder), Is.EqualTo(expected));

    [Test]
    public void Describe_OtherMessage_Unchanged() =>
        Assert.That(BindingFailureMessage.Describe("Something else."), Is.EqualTo("Something else."));
}
