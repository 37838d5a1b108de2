namespace Chroma.Benchmarks.Ann;

/// <summary>One tool's results on one data set; the hnswlib peer script writes the same JSON shape.</summary>
internal sealed record AnnReport
{
    public required string Tool { get; init; }

    public required string Dataset { get; init; }

    public required int Count { get; init; }

    public required int Dim { get; init; }

    public required int Queries { get; init; }

    public required int K { get; init; }

    public required int M { get; init; }

    public required int EfConstruction { get; init; }

    public required string Metric { get; init; }

    public double BuildSeconds1Thread { get; set; }

    /// <summary>CPU seconds of the building thread: robust to other load on a shared machine.</summary>
    public double BuildCpuSeconds1Thread { get; set; }

    public double BuildSecondsAllCores { get; set; }

    /// <summary>Nodes no layer-0 walk from the entry point reaches, after the one-thread build (ours only).</summary>
    public int UnreachableAfterBuild1Thread { get; set; }

    /// <summary>The same after the all-core build, before the reconnect pass the server runs after every build (ours only).</summary>
    public int UnreachableAfterBuildAllCores { get; set; }

    /// <summary>Wall-clock seconds of that reconnect pass (ours only).</summary>
    public double ReconnectSeconds { get; set; }

    public int Threads { get; set; }

    public long VectorBytes { get; set; }

    public long GraphBytes { get; set; }

    public long FileBytes { get; set; }

    public List<AnnEfResult> Efs { get; } = [];

    public double InsertAlonePerSecond { get; set; }

    public double InsertWhileSearchingPerSecond { get; set; }

    public double SearchesDuringInsertPerSecond { get; set; }

    public double InsertAlonePerCpuSecond { get; set; }

    public double InsertWhileSearchingPerCpuSecond { get; set; }
}

/// <summary>Recall@k and single-threaded queries per wall-clock second and per CPU second at one ef.</summary>
internal sealed record AnnEfResult(int Ef, double Recall, double Qps, double QpsCpu)
{
    /// <summary>Share of stored vectors returned as their own nearest neighbour by the graph alone.</summary>
    public double SelfFirst { get; init; }
}
