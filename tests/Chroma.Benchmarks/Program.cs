using Chroma.Benchmarks;
using Chroma.Benchmarks.Ann;
using Chroma.Benchmarks.Data;
using Chroma.Benchmarks.Kernels;

// A small command dispatcher: each benchmark is one command; add new ones (e.g. `ood`) to this table.
var commands = new Dictionary<string, (string Usage, Func<CommandArguments, int> Run)>(StringComparer.Ordinal)
{
    ["ann"] = (AnnCommand.Usage, AnnCommand.Run),
    ["make-data"] = (MakeDataCommand.Usage, MakeDataCommand.Run),
    ["kernels"] = (KernelsCommand.Usage, KernelsCommand.Run),
};

if (args.Length == 0 || !commands.TryGetValue(args[0], out var command))
{
    Console.Error.WriteLine("usage: Chroma.Benchmarks <command> [options]");
    foreach ((string name, (string usage, _)) in commands)
    {
        Console.Error.WriteLine($"  {name,-10} {usage}");
    }

    return args.Length == 0 ? 0 : 2;
}

try
{
    return command.Run(new CommandArguments(args.AsSpan(1).ToArray()));
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine($"{args[0]}: {ex.Message}");
    Console.Error.WriteLine($"usage: {args[0]} {command.Usage}");
    return 2;
}
