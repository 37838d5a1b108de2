using System.Globalization;
using Microsoft.Extensions.Options;

namespace Chroma.Server.Configuration.Internal;

/// <summary>
/// Collects what is wrong with one options type, each problem naming the setting by its full configuration path
/// (<c>Chroma:Indexing:SaveInterval</c>), so a failed start says exactly which setting to fix. Every feature's
/// <c>IValidateOptions</c> fills one and returns <see cref="Result"/>.
/// </summary>
internal sealed class SettingProblems
{
    /// <summary>The root configuration section of every server setting.</summary>
    public const string Root = "Chroma";

    private readonly string _section;
    private List<string>? _problems;

    /// <summary>Creates the collector for the settings below <c>Chroma:{section}</c> (the root itself when null).</summary>
    public SettingProblems(string? section) => _section = section is null ? Root : $"{Root}:{section}";

    /// <summary>Gets whether a problem was found.</summary>
    public bool Any => _problems is { Count: > 0 };

    /// <summary>The full configuration path of <paramref name="setting"/> (e.g. <c>Chroma:Indexing:SaveInterval</c>).</summary>
    public string PathOf(string setting) => $"{_section}:{setting}";

    /// <summary>
    /// Adds "<c>{path} ({environment variable}) {problem}</c>", e.g. <c>Chroma:Port (Chroma__Port) must be ...</c>, so
    /// an operator who set the environment variable finds the name they typed.
    /// </summary>
    public void Add(string setting, string problem)
    {
        var path = PathOf(setting);
        (_problems ??= []).Add($"{path} ({path.Replace(":", "__", StringComparison.Ordinal)}) {problem}");
    }

    /// <summary>Adds a problem when <paramref name="value"/> is outside <paramref name="min"/>..<paramref name="max"/>.</summary>
    public void Range(string setting, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            Add(setting, string.Create(CultureInfo.InvariantCulture, $"must be between {min} and {max} (got {value})"));
        }
    }

    /// <summary>Adds a problem when <paramref name="value"/> is outside <paramref name="min"/>..<paramref name="max"/> (NaN included).</summary>
    public void Range(string setting, double value, double min, double max, string bounds)
    {
        if (!(value >= min && value <= max))
        {
            Add(setting, string.Create(CultureInfo.InvariantCulture, $"must be {bounds} (got {value})"));
        }
    }

    /// <summary>
    /// Adds a problem when <paramref name="value"/> is outside <paramref name="min"/>..<paramref name="max"/>;
    /// <paramref name="bounds"/> says the range in words ("1 second and 1 day").
    /// </summary>
    public void Range(string setting, TimeSpan value, TimeSpan min, TimeSpan max, string bounds)
    {
        if (value < min || value > max)
        {
            Add(setting, string.Create(CultureInfo.InvariantCulture, $"must be between {bounds} (got {value})"));
        }
    }

    /// <summary>The outcome: success, or a failure listing every problem found.</summary>
    public ValidateOptionsResult Result => _problems is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
}
