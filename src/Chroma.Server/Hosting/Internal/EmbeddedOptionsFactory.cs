using Microsoft.Extensions.Options;

namespace Chroma.Server.Hosting.Internal;

/// <summary>
/// The options factory of an embedded server: its value is the section the caller passed in
/// <see cref="ChromaServerOptions"/> (a copy), run through the same configure steps and validators as a section bound
/// from configuration.
/// </summary>
internal sealed class EmbeddedOptionsFactory<TOptions> : OptionsFactory<TOptions>
    where TOptions : class
{
    private readonly TOptions? _instance;
    private readonly string _path;

    /// <summary>Creates the factory for <paramref name="instance"/>, the section at <paramref name="path"/>.</summary>
    public EmbeddedOptionsFactory(
        TOptions? instance,
        string path,
        IEnumerable<IConfigureOptions<TOptions>> setups,
        IEnumerable<IPostConfigureOptions<TOptions>> postConfigures,
        IEnumerable<IValidateOptions<TOptions>> validations)
        : base(setups, postConfigures, validations)
    {
        _instance = instance;
        _path = path;
    }

    /// <inheritdoc />
    protected override TOptions CreateInstance(string name) =>
        _instance ?? throw new OptionsValidationException(name, typeof(TOptions), [$"{_path} must be set"]);
}
