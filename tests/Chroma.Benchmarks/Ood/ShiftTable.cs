using System.Globalization;
using Chroma.Server.Recommendations;

namespace Chroma.Benchmarks.Ood;

/// <summary>AUROC per score column and shift (shifted vs normal), and misclassified vs correct on the normal digits, as Markdown.</summary>
internal sealed class ShiftTable
{
    private const string Mistakes = "misclassified vs correct";
    private const string AbsentMean = "class absent (mean)";
    private const string AbsentWorst = "class absent (worst)";

    private readonly List<string> _rows = [];
    private readonly List<string> _shifts = [];
    private readonly Dictionary<(string Row, string Shift), double> _auroc = [];
    private readonly Dictionary<string, List<double>> _absent = new(StringComparer.Ordinal);

    public void AddShift(string shift, List<(string Name, double[] Scores)> columns, int normalCount, int offset, int count)
    {
        _shifts.Add(shift);
        bool[] truth = [.. Enumerable.Repeat(false, normalCount), .. Enumerable.Repeat(true, count)];
        foreach (var (name, scores) in columns)
        {
            Set(name, shift, Auroc.Compute([.. scores.Take(normalCount), .. scores.Skip(offset).Take(count)], truth));
        }
    }

    public void AddMistakes(List<(string Name, double[] Scores)> columns, bool[] mistakes)
    {
        foreach (var (name, scores) in columns)
        {
            Set(name, Mistakes, Auroc.Compute([.. scores.Take(mistakes.Length)], mistakes));
        }
    }

    public void AddAbsentClass(int absentClass, List<(string Name, double[] Scores)> columns, int normalCount, int novelCount)
    {
        _ = absentClass;
        bool[] truth = [.. Enumerable.Repeat(false, normalCount), .. Enumerable.Repeat(true, novelCount)];
        foreach (var (name, scores) in columns)
        {
            if (!_absent.TryGetValue(name, out var list))
            {
                _absent[name] = list = [];
            }

            list.Add(Auroc.Compute(scores, truth));
        }
    }

    public double Get(string row, string shift) => _auroc.TryGetValue((row, shift), out var v) ? v : double.NaN;

    public void Write(TextWriter output)
    {
        var header = ShiftColumns();
        output.WriteLine("| score | " + string.Join(" | ", header) + " |");
        output.WriteLine("|---|" + string.Concat(header.Select(_ => "---|")));
        foreach (var row in _rows)
        {
            output.WriteLine($"| {row} | " + string.Join(" | ", header.Select(h => Format(Value(row, h)))) + " |");
        }
    }

    public void WriteGoals(TextWriter output)
    {
        const string balanced = "strategy: Balanced";
        var letters = Value(balanced, "notMNIST letters");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"goal balanced AUROC >= 0.99 on notMNIST: {(letters >= 0.99 ? "met" : "NOT met")} ({letters:0.0000})"));
        foreach (var shift in ShiftColumns().Where(s => s != Mistakes && s != "notMNIST letters" && s != AbsentMean))
        {
            var v = Value(balanced, shift);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"goal balanced AUROC >= 0.95 on {shift}: {(v >= 0.95 ? "met" : "NOT met")} ({v:0.0000})"));
        }

        var uncertainty = Value("strategy: Uncertainty", Mistakes);
        var softmax = Value("anchor: max softmax", Mistakes);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"goal uncertainty >= max softmax on misclassified vs correct: {(uncertainty >= softmax ? "met" : "NOT met")} ({uncertainty:0.0000} vs {softmax:0.0000})"));
    }

    private List<string> ShiftColumns()
    {
        var columns = new List<string>(_shifts);
        if (_absent.Count > 0)
        {
            columns.Add(AbsentMean);
            columns.Add(AbsentWorst);
        }

        columns.Add(Mistakes);
        return columns;
    }

    private double Value(string row, string column) => column switch
    {
        AbsentMean => _absent.TryGetValue(row, out var list) ? list.Average() : double.NaN,
        AbsentWorst => _absent.TryGetValue(row, out var list) ? list.Min() : double.NaN,
        _ => Get(row, column),
    };

    private void Set(string row, string shift, double value)
    {
        if (!_rows.Contains(row))
        {
            _rows.Add(row);
        }

        _auroc[(row, shift)] = value;
    }

    private static string Format(double value) => double.IsNaN(value) ? "-" : value.ToString("0.000", CultureInfo.InvariantCulture);
}
