using Chroma.Server.Tests.TestSupport;
using Chroma.Server.Web;
using Chroma.Server.Web.Internal;

namespace Chroma.Server.Tests.Web;

/// <summary>Studio's settings (<c>Chroma:Web</c>); that its port differs from the gRPC port is checked with the root settings (<c>ChromaServerOptionsValidatorTests</c>).</summary>
[TestFixture]
public sealed class WebOptionsValidatorTests
{
    [Test]
    public void Validate_WebPortOutOfRange_FailsNamingWebPort()
    {
        var problems = ValidatorAssert.Problems(new WebOptionsValidator(), new WebOptions { Port = 70_000 });

        Assert.That(problems, Does.Contain("Chroma:Web:Port (Chroma__Web__Port) must be between 0 and 65535 (got 70000)"));
    }

    [Test]
    public void Validate_InputRootMissing_FailsNamingTheSetting()
    {
        var problems = ValidatorAssert.Problems(new WebOptionsValidator(), new WebOptions { InputRoot = "/no/such/folder/chroma" });

        Assert.That(problems, Does.Contain("Chroma:Web:InputRoot (Chroma__Web__InputRoot) must be an existing folder"));
    }

    [Test]
    public void Validate_UndoWindowTooShort_FailsNamingTheSetting()
    {
        var problems = ValidatorAssert.Problems(new WebOptionsValidator(), new WebOptions { UndoWindow = TimeSpan.FromMilliseconds(10) });

        Assert.That(problems, Does.Contain("Chroma:Web:UndoWindow (Chroma__Web__UndoWindow) must be between 1 second and 10 minutes"));
    }

    [Test]
    public void Validate_DisabledWithOddPort_Succeeds() =>
        ValidatorAssert.Valid(new WebOptionsValidator(), new WebOptions { Enabled = false, Port = -1 });
}
