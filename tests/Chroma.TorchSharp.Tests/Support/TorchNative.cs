using NUnit.Framework;
using static TorchSharp.torch;

namespace Chroma.Tests.TorchSharp.Support;

/// <summary>
/// Fails a fixture loudly when libtorch cannot load, instead of letting every test die with a type-initialisation
/// error: TorchSharp tests must fail, never skip, on a machine that cannot run them.
/// </summary>
internal static class TorchNative
{
    public static void RequireLoaded()
    {
        try
        {
            using var probe = zeros(1);
        }
#pragma warning disable CA1031 // Any load failure becomes one clear assertion failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Assert.Fail(
                "TorchSharp's native library did not load. On Debian 12 install libstdc++6 from trixie " +
                $"(GLIBCXX_3.4.32; see README, '.ci/run' does it). {ex.GetType().Name}: {ex.Message}");
        }
    }
}
