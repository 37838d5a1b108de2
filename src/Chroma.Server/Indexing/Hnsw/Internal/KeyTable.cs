namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// Key to node map as an open-addressing table of node ids (linear probing); the keys themselves are read
/// from the node store, so a key costs 4-8 bytes here instead of a Dictionary entry's 24-56. Not thread-safe:
/// the graph calls it under its key lock.
/// </summary>
internal sealed class KeyTable(NodeStore nodes)
{
    private const int Empty = -1;
    private const int Removed = -2;

    private int[] _slots = NewSlots(16);
    private int _used;

    public int Count { get; private set; }

    public long Bytes => (long)_slots.Length * sizeof(int);

    public bool TryGet(long key, out int node)
    {
        int mask = _slots.Length - 1;
        for (int i = Home(key, mask); ; i = (i + 1) & mask)
        {
            int slot = _slots[i];
            if (slot == Empty)
            {
                node = -1;
                return false;
            }

            if (slot >= 0 && nodes.Key(slot) == key)
            {
                node = slot;
                return true;
            }
        }
    }

    /// <summary>Adds <paramref name="key"/> (which must be absent) for <paramref name="node"/>, whose key is already stored.</summary>
    public void Add(long key, int node)
    {
        if ((_used + 1) * 10 > _slots.Length * 7)
        {
            Rehash(Count + 1 > _slots.Length / 4 ? _slots.Length * 2 : _slots.Length);
        }

        int mask = _slots.Length - 1;
        int i = Home(key, mask);
        while (_slots[i] >= 0)
        {
            i = (i + 1) & mask;
        }

        if (_slots[i] == Empty)
        {
            _used++;
        }

        _slots[i] = node;
        Count++;
    }

    public bool Remove(long key, out int node)
    {
        int mask = _slots.Length - 1;
        for (int i = Home(key, mask); ; i = (i + 1) & mask)
        {
            int slot = _slots[i];
            if (slot == Empty)
            {
                node = -1;
                return false;
            }

            if (slot >= 0 && nodes.Key(slot) == key)
            {
                _slots[i] = Removed;
                Count--;
                node = slot;
                return true;
            }
        }
    }

    private static int Home(long key, int mask) => (int)(((ulong)key * 0x9E3779B97F4A7C15UL) >> 32) & mask;

    private static int[] NewSlots(int length)
    {
        var slots = new int[length];
        Array.Fill(slots, Empty);
        return slots;
    }

    private void Rehash(int length)
    {
        int[] old = _slots;
        _slots = NewSlots(length);
        _used = 0;
        Count = 0;
        foreach (int node in old)
        {
            if (node >= 0)
            {
                Add(nodes.Key(node), node);
            }
        }
    }
}
