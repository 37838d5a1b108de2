using Microsoft.Extensions.Options;

namespace Chroma.Server.Tests.TestSupport;

/// <summary>Runs one options validator the way the host does at start and reads its verdict.</summary>
internal static class ValidatorAssert
{
    /// <summary>The failure message (every problem, separated by "; "); fails the test when the options pass.</summary>
    public static string Problems<TOptions>(IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class
    {
        var result = validator.Validate(Options.DefaultName, options);
        Assert.That(result.Failed, Is.True, "the validator accepted options it should refuse");
        return result.FailureMessage ?? string.Empty;
    }

    /// <summary>Fails the test when the validator refuses <paramref name="options"/>, naming what it said.</summary>
    public static void Valid<TOptions>(IValidateOptions<TOptions> validator, TOptions options)
        where TOptions : class
    {
        var result = validator.Validate(Options.DefaultName, options);
        Assert.That(result.Failed, Is.False, result.FailureMessage);
    }
}
