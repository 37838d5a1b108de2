using Chroma.Benchmarks.Capture;

return args switch
{
    ["capture", .. var rest] => CaptureCommand.Run(rest),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Chroma.Benchmarks capture [BenchmarkDotNet options, e.g. --filter '*']");
    return 2;
}
