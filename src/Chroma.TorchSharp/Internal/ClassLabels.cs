using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace Chroma.TorchSharp.Internal;

/// <summary>
/// Turns class indices into the names logged as predicted classes and labels: the set's class names where it has
/// them, else the index as text. Index texts are made once, so the hot path does not allocate strings.
/// </summary>
internal sealed class ClassLabels
{
    private readonly IReadOnlyList<string>? _names;
    private string[] _indexTexts = [];

    public ClassLabels(IReadOnlyList<string>? names)
    {
        _names = names;
    }

    public string NameOf(int index)
    {
        if (_names is not null && (uint)index < (uint)_names.Count)
        {
            return _names[index];
        }

        var texts = _indexTexts;
        if ((uint)index < (uint)texts.Length)
        {
            return texts[index];
        }

        return GrowAndGet(index);
    }

    /// <summary>The names of the class indices in <paramref name="labels"/> (an integer tensor of shape <c>[batch]</c> or <c>[batch, 1]</c>).</summary>
    /// <exception cref="ArgumentException">The tensor is not a batch of integer class indices.</exception>
    public string[] NamesOf(Tensor labels)
    {
        if (labels.is_floating_point() || labels.is_complex() || labels.dtype == ScalarType.Bool)
        {
            throw new ArgumentException($"Labels must be integer class indices, not {labels.dtype}.", nameof(labels));
        }

        if (labels.Dimensions == 0 || labels.numel() != labels.size(0))
        {
            throw new ArgumentException("Labels must have shape [batch] or [batch, 1].", nameof(labels));
        }

        using var scope = NewDisposeScope();
        var host = labels.detach().cpu().to_type(ScalarType.Int64).contiguous();
        var indices = host.data<long>().ToArray();
        var names = new string[indices.Length];
        for (var i = 0; i < indices.Length; i++)
        {
            if (indices[i] < 0 || indices[i] > int.MaxValue)
            {
                throw new ArgumentException($"Label {indices[i]} at row {i} is not a class index.", nameof(labels));
            }

            if (_names is not null && indices[i] >= _names.Count)
            {
                // A set with class names: an index past them has no name, and storing it as "42" would mislabel the row.
                throw new ArgumentException($"Label {indices[i]} at row {i} is outside the set's {_names.Count} class names.", nameof(labels));
            }

            names[i] = NameOf((int)indices[i]);
        }

        return names;
    }

    private string GrowAndGet(int index)
    {
        // Small indices are cached; a huge index (a bug upstream) is formatted each time rather than cached.
        if (index < 0 || index >= 4096)
        {
            return index.ToString(CultureInfo.InvariantCulture);
        }

        var old = _indexTexts;
        var texts = new string[Math.Max(index + 1, Math.Min(4096, Math.Max(16, old.Length * 2)))];
        old.CopyTo(texts, 0);
        for (var i = old.Length; i < texts.Length; i++)
        {
            texts[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        // Races only make a thread build the same table again; readers see either table, both correct.
        _indexTexts = texts;
        return texts[index];
    }
}
