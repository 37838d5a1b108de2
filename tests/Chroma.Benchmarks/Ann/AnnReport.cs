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
