using System.Reflection;
using Chroma.Server.Indexing;

namespace Chroma.Server.Tests.Indexing;

/// <summary>What the adaptive index tests fill an index with, and what they look into (by reflection) to watch its memory.</summary>
internal static class AdaptiveIndexInternals
{
    /// <summary>Adds vector i as sequence i of dataset "training".</summary>
    public static void Fill(AdaptiveVectorIndex index, float[][] vectors)
    {
        for (var i = 0; i < vectors.Length; i++)
        {
            index.Add(i, vectors[i], "training");
        }
    }

    /// <summary>The index's exact index (while it has one) and that index's vector chunk arrays.</summary>
    public static (object Exact, float[][] Chunks) ExactIndex(AdaptiveVectorIndex index)
    {
        const BindingFlags Private = BindingFlags.NonPublic | BindingFlags.Instance;
        var exact = typeof(AdaptiveVectorIndex).GetField("_exact", Private)!.GetValue(index)!;
        return (exact, (float[][])typeof(BruteForceVectorIndex).GetField("_chunks", Private)!.GetValue(exact)!);
    }
}
