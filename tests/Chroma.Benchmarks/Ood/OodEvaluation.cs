using System.Globalization;
using Chroma.Server.Recommendations;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// Turns per-record scores into the evaluation table: AUROC for letter vs digit (out of distribution),
/// AUROC for misclassified vs correct (production digits only) and precision of the top 100, per column.
/// </summary>
internal sealed class OodEvaluation
{
    private readonly List<(string Name, double[] Scores)> _columns = [];
    private readonly bool[] _isLetter;
    private readonly bool[] _isDigitMistake;

    /// <param name="isLetter">Per production record: a notMNIST letter (else an MNIST digit).</param>
    /// <param name="isDigitMistake">Per production record: a digit the model misclassified (false for letters).</param>
    public OodEvaluation(bool[] isLetter, bool[] isDigitMistake)
    {
        _isLetter = isLetter;
        _isDigitMistake = isDigitMistake;
    }

    /// <summary>Adds a column: one score per production record, larger = more worth a look.</summary>
    public void Add(string name, double[] scores) => _columns.Add((name, scores));

    /// <summary>The AUROC for letter vs digit of the named column.</summary>
    public double LetterAuroc(string name) => Auroc.Compute(Column(name), _isLetter);

    /// <summary>Writes the table as Markdown.</summary>
    public void Write(TextWriter output)
    {
        var digits = Enumerable.Range(0, _isLetter.Length).Where(i => !_isLetter[i]).ToArray();
        output.WriteLine("| score | AUROC letter vs digit | AUROC misclassified vs correct (digits) | precision@100 (letters) |");
        output.WriteLine("|---|---|---|---|");
        foreach (var (name, scores) in _columns)
        {
            var ood = Auroc.Compute(scores, _isLetter);
            var mistakes = Auroc.Compute([.. digits.Select(i => scores[i])], [.. digits.Select(i => _isDigitMistake[i])]);
            var top = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).Take(100).Count(i => _isLetter[i]) / 100.0;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {ood:0.0000} | {mistakes:0.0000} | {top:0.00} |"));
        }
    }

    private double[] Column(string name) => _columns.Single(c => c.Name == name).Scores;
}
