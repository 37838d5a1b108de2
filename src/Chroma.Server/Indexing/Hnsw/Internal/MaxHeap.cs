using System.Runtime.CompilerServices;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// A binary max-heap of (priority, node) pairs on a reusable array. The search keeps its result set in one
/// (largest distance on top) and its candidate queue in another with negated distances, so one type serves both
/// and neither allocates once the array has grown to the largest ef seen on this thread.
/// </summary>
internal sealed class MaxHeap
{
    private Entry[] _items = new Entry[64];

    public int Count { get; private set; }

    public float TopPriority
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _items[0].Priority;
    }

    public int TopNode
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _items[0].Node;
    }

    public void Clear() => Count = 0;

    public void Push(float priority, int node)
    {
        if (Count == _items.Length)
        {
            Array.Resize(ref _items, _items.Length * 2);
        }

        Entry[] items = _items;
        int i = Count++;
        while (i > 0)
        {
            int parent = (i - 1) >> 1;
            if (items[parent].Priority >= priority)
            {
                break;
            }

            items[i] = items[parent];
            i = parent;
        }

        items[i] = new Entry(priority, node);
    }

    public void Pop()
    {
        Entry[] items = _items;
        int n = --Count;
        if (n == 0)
        {
            return;
        }

        Entry last = items[n];
        int i = 0;
        while (true)
        {
            int child = (2 * i) + 1;
            if (child >= n)
            {
                break;
            }

            if (child + 1 < n && items[child + 1].Priority > items[child].Priority)
            {
                child++;
            }

            if (items[child].Priority <= last.Priority)
            {
                break;
            }

            items[i] = items[child];
            i = child;
        }

        items[i] = last;
    }

    private readonly record struct Entry(float Priority, int Node);
}
