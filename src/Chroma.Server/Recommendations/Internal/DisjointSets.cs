namespace Chroma.Server.Recommendations;

/// <summary>Union-find with path halving and union by size.</summary>
internal sealed class DisjointSets
{
    private readonly int[] _parent;
    private readonly int[] _size;

    /// <summary>Creates <paramref name="count"/> singleton sets.</summary>
    public DisjointSets(int count)
    {
        _parent = Enumerable.Range(0, count).ToArray();
        _size = Enumerable.Repeat(1, count).ToArray();
    }

    /// <summary>The representative of <paramref name="item"/>'s set.</summary>
    public int Find(int item)
    {
        while (_parent[item] != item)
        {
            _parent[item] = _parent[_parent[item]];
            item = _parent[item];
        }

        return item;
    }

    /// <summary>Merges the sets of <paramref name="a"/> and <paramref name="b"/>.</summary>
    public void Union(int a, int b)
    {
        a = Find(a);
        b = Find(b);
        if (a == b)
        {
            return;
        }

        if (_size[a] < _size[b])
        {
            (a, b) = (b, a);
        }

        _parent[b] = a;
        _size[a] += _size[b];
    }
}
