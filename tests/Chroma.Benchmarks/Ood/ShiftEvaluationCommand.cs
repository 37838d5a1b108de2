using System.Diagnostics;
using System.Globalization;
using Chroma.Samples.TorchSharp;
using Chroma.Server.Background;
using Chroma.Server.Recommendations;

namespace Chroma.Benchmarks.Ood;

/// <summary>
/// The shift evaluation (issue 13 item 3), in process with the server's scoring classes: train the sample's MNIST MLP
/// on 6,000 digits, take 2,000 other digits as normal production traffic and every <see cref="ConstructedShifts"/>
/// shift (2,000 images each, from 2,000 further digits, or 2,000 letters) as shifted traffic, and report the AUROC of
/// every signal, strategy, anchor and candidate detector for shifted vs normal, per shift, plus misclassified vs
/// correct on the normal digits. The class-absent shift trains one more model per absent class (without that class)
/// and reports the mean and the worst class.
/// <code>ood [--epochs 4] [--absent-classes 0,1,...,9] [--data samples/data] [--seed 1] [--dump DIR] [--reference N]</code>
/// <c>--dump</c> also writes every model output (<see cref="OutputDump"/>) for offline exploration. <c>--reference N</c>
/// trains the model on the first 6,000 - N training digits only and gives the engine the last N, which the model never
/// saw, as the set's <c>reference</c> dataset (<see cref="ProductionShift.AgainstReference"/>); the engine without them,
/// on the same model, is reported beside it (rows "against training: ..."). <c>--shuffle</c> splits the MNIST test digits
/// in a seeded random order instead of file order: in file order, digits 0-4,999 and 5,000-9,999 come from two NIST
/// collections (the first cleaner), so the training digits (0-5,999) are mostly of the first and the normal and shifted
/// production digits (6,000-9,999) all of the second, a difference every production digit shares.
/// </summary>
internal static class ShiftEvaluationCommand
{
    public const string Usage = "[--epochs 4] [--absent-classes 0,...,9] [--seed 1] [--data samples/data] [--dump DIR] [--production-settings] [--reference N] [--shuffle] | --server   (AUROC per constructed shift x signal/strategy; --server: the letters run end to end)";

    private const int TrainingCount = 6_000;
    private const int PartCount = 2_000;

    public static int Run(CommandArguments args)
    {
        var epochs = args.Int("epochs", 4);
        var absent = args.IntList("absent-classes", "0,1,2,3,4,5,6,7,8,9");
        var seed = args.Int("seed", 1);
        var dump = args.Optional("dump") is string dumpDirectory ? new OutputDump(dumpDirectory) : null;
        var productionSettings = args.Flag("production-settings");
        var referenceCount = args.Int("reference", 0);
        var shuffle = args.Flag("shuffle");
        var directory = SampleData.FindDirectory(args.Optional("data"));
        args.RejectUnknown();
        var clock = Stopwatch.StartNew();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;

        var digits = GreyImages.From(
            IdxReader.ReadImages(Path.Combine(directory, "mnist-t10k-images-idx3-ubyte.gz")),
            IdxReader.ReadLabels(Path.Combine(directory, "mnist-t10k-labels-idx1-ubyte.gz")),
            SampleData.DigitSource);
        if (shuffle)
        {
            digits = digits.Shuffled(seed);
        }

        var letters = GreyImages.From(
            IdxReader.ReadImages(Path.Combine(directory, "notmnist-t10k-images-idx3-ubyte.gz")),
            IdxReader.ReadLabels(Path.Combine(directory, "notmnist-t10k-labels-idx1-ubyte.gz")),
            SampleData.LetterSource).Range(0, PartCount);
        if (referenceCount < 0 || referenceCount >= TrainingCount)
        {
            Console.Error.WriteLine($"--reference must be 0 to {TrainingCount - 1} (got {referenceCount})");
            return 2;
        }

        var training = digits.Range(0, TrainingCount - referenceCount);
        var referenceDigits = digits.Range(TrainingCount - referenceCount, referenceCount);
        var normal = digits.Range(TrainingCount, PartCount);
        var source = digits.Range(TrainingCount + PartCount, PartCount);
        var shifts = ConstructedShifts.Build(source, letters, seed);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cores={Environment.ProcessorCount} training={training.Count} reference={referenceDigits.Count} normal={normal.Count} shifts={shifts.Count} (+ {ConstructedShifts.AbsentClass}: classes {string.Join(",", absent)}) epochs={epochs} seed={seed}"));

        using var limiter = new BackgroundWorkLimiter(Environment.ProcessorCount, "ood");
        var table = new ShiftTable();
        var served = new ServedShare();

        using (var model = Train(training, epochs, seed))
        {
            var trainingOutputs = MlpOutputs.Of(model, training.ToLabelled());
            var parts = new List<MlpOutputs> { MlpOutputs.Of(model, normal.ToLabelled()) };
            parts.AddRange(shifts.Select(s => MlpOutputs.Of(model, s.Images.ToLabelled())));
            var production = MlpOutputs.Concat(parts);
            var accuracy = Enumerable.Range(0, normal.Count).Count(i => parts[0].Predictions[i] == normal.Labels[i]) / (double)normal.Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"model trained in {clock.Elapsed.TotalSeconds:0.0} s; accuracy on the normal digits {accuracy:P1}"));
            foreach (var ((name, images), i) in shifts.Select((s, i) => (s, i)))
            {
                if (name != "notMNIST letters")
                {
                    var shiftedAccuracy = Enumerable.Range(0, images.Count).Count(j => parts[i + 1].Predictions[j] == images.Labels[j]) / (double)images.Count;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  accuracy under {name}: {shiftedAccuracy:P1}"));
                }
            }

            dump?.Write("training", trainingOutputs, training.Labels);
            dump?.Write("normal", parts[0], normal.Labels);
            for (var s = 0; s < shifts.Count; s++)
            {
                dump?.Write("shift" + s.ToString(CultureInfo.InvariantCulture), parts[s + 1], shifts[s].Images.Labels);
            }

            var reference = referenceCount > 0 ? MlpOutputs.Of(model, referenceDigits.ToLabelled()) : null;
            var columns = DetectorColumns.Compute(trainingOutputs, training.Labels, production, limiter, dump is null ? null : (dump, "production-all"), out var scored, reference);
            var offset = normal.Count;
            var isNormal = new bool[production.Count];
            Array.Fill(isNormal, true, 0, normal.Count);
            for (var s = 0; s < shifts.Count; s++)
            {
                var count = shifts[s].Images.Count;
                table.AddShift(shifts[s].Name, columns, normal.Count, offset, count);
                served.Add(shifts[s].Name, scored, normal.Count, offset, count);
                offset += count;
            }

            var mistakes = Enumerable.Range(0, normal.Count).Select(i => parts[0].Predictions[i] != normal.Labels[i]).ToArray();
            table.AddMistakes(columns, mistakes);
            if (productionSettings)
            {
                ProductionSettings.Write(trainingOutputs, training.Labels, parts, [.. shifts.Select(s => s.Name)], mistakes, limiter, Console.Out);
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"main model evaluated after {clock.Elapsed.TotalSeconds:0.0} s"));
        foreach (var absentClass in absent)
        {
            var kept = training.Where(i => training.Labels[i] != absentClass);
            var keptNormal = normal.Where(i => normal.Labels[i] != absentClass);
            var novel = source.Where(i => source.Labels[i] == absentClass);
            using var model = Train(kept, epochs, seed);
            var keptOutputs = MlpOutputs.Of(model, kept.ToLabelled());
            var normalOutputs = MlpOutputs.Of(model, keptNormal.ToLabelled());
            var novelOutputs = MlpOutputs.Of(model, novel.ToLabelled());
            var suffix = absentClass.ToString(CultureInfo.InvariantCulture);
            dump?.Write("absent" + suffix + "-training", keptOutputs, kept.Labels);
            dump?.Write("absent" + suffix + "-normal", normalOutputs, keptNormal.Labels);
            dump?.Write("absent" + suffix + "-novel", novelOutputs, novel.Labels);
            var production = MlpOutputs.Concat([normalOutputs, novelOutputs]);
            var keptReference = referenceCount > 0 ? MlpOutputs.Of(model, referenceDigits.Where(i => referenceDigits.Labels[i] != absentClass).ToLabelled()) : null;
            var columns = DetectorColumns.Compute(keptOutputs, kept.Labels, production, limiter, dump is null ? null : (dump, "absent" + suffix + "-production"), out var absentScored, keptReference);
            served.Add("class " + suffix + " absent", absentScored, keptNormal.Count, keptNormal.Count, novel.Count);
            table.AddAbsentClass(absentClass, columns, keptNormal.Count, novel.Count);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  class {absentClass} absent: evaluated after {clock.Elapsed.TotalSeconds:0.0} s"));
        }

        Console.WriteLine();
        table.Write(Console.Out);
        Console.WriteLine();
        table.WriteGoals(Console.Out);
        Console.WriteLine();
        served.Write(Console.Out);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"total {clock.Elapsed.TotalSeconds:0.0} s wall, {(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.0} s CPU"));
        return 0;
    }

    private static MnistMlp Train(GreyImages images, int epochs, int seed)
    {
        var model = new MnistMlp(seed);
        var trainer = new MnistTrainer(model);
        var labelled = images.ToLabelled();
        for (var epoch = 1; epoch <= epochs; epoch++)
        {
            trainer.TrainEpoch(labelled, epoch);
        }

        return model;
    }
}
