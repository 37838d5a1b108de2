using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Chroma.Server.Indexing.Hnsw.Internal;

/// <summary>
/// Contiguous, growable storage for every node: vectors, layer-0 links, keys, tags, levels and flags live in
/// flat arrays grouped into chunks of <see cref="ChunkSize"/> nodes. Growing appends a chunk and never moves
/// existing data, so searches keep reading while inserts grow the store. Vector and layer-0 link arrays are
/// allocated on the pinned heap so the hot loops can use raw pointers (and prefetch) without pinning per call.
/// Upper-layer links (about 1 node in M has any) are one flat int[] per such node. A chunk's vector array may be one it
/// did not allocate: a slab of the exact index's snapshot (<see cref="AdoptVectors"/>).
/// </summary>
internal sealed unsafe class NodeStore
{
    public const int ChunkShift = 12;
    public const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private readonly int _dim;
    private readonly int _level0Stride;
    private readonly int _upperStride;
    private readonly Lock _growLock = new();
    private Chunk[] _chunks = [];

    // Chunk base addresses, so the hot loops reach a vector or a layer-0 list with one load instead of two.
    private nint[] _vectorBases = [];
    private nint[] _linkBases = [];

    public NodeStore(int dim, int m)
    {
        _dim = dim;
        _level0Stride = (2 * m) + 1;
        _upperStride = m + 1;
    }

    /// <summary>Nodes the allocated chunks can hold; only grows.</summary>
    public int Capacity => Volatile.Read(ref _chunks).Length * ChunkSize;

    public int ChunkCount => Volatile.Read(ref _chunks).Length;

    public int Level0Stride => _level0Stride;

    public int UpperStride => _upperStride;

    public void EnsureCapacity(int nodes) => Grow(nodes, null);

    /// <summary>
    /// Grows an empty store to <paramref name="chunks"/> chunks, each using the pinned array of
    /// <see cref="ChunkSize"/> vectors <paramref name="slabOf"/> gives for it (never written again by anyone) as its
    /// vectors, or allocating its own where that is null. Node i's vector is then row i: the caller reserves nodes in order.
    /// </summary>
    public void AdoptVectors(int chunks, Func<int, float[]?> slabOf)
    {
        if (Capacity != 0)
        {
            throw new InvalidOperationException("Vectors can only be adopted by an empty store.");
        }

        Grow(chunks * ChunkSize, slabOf);
    }

    /// <summary>
    /// Grows a store of exactly <paramref name="firstChunk"/> chunks by one chunk per slab of <paramref name="slabs"/>,
    /// each using its slab as its vectors (on the pinned heap, never written again by anyone). Node
    /// <c>firstChunk * ChunkSize + i</c>'s vector is then row i of the slabs: the caller reserves those nodes in order.
    /// </summary>
    public void AdoptVectorsFrom(int firstChunk, IReadOnlyList<float[]> slabs)
    {
        ArgumentNullException.ThrowIfNull(slabs);
        if (ChunkCount != firstChunk)
        {
            throw new InvalidOperationException($"Vectors are adopted from chunk {firstChunk}, but the store holds {ChunkCount} chunks.");
        }

        Grow((firstChunk + slabs.Count) * ChunkSize, c => slabs[c - firstChunk]);
    }

    /// <summary>Whether <paramref name="node"/>'s chunk reads its vectors from an adopted slab.</summary>
    public bool IsAdopted(int node) => _chunks[node >> ChunkShift].Adopted;

    private void Grow(int nodes, Func<int, float[]?>? slabOf)
    {
        if (nodes <= Capacity)
        {
            return;
        }

        lock (_growLock)
        {
            Chunk[] current = _chunks;
            int needed = (nodes + ChunkMask) >> ChunkShift;
            if (needed <= current.Length)
            {
                return;
            }

            var grown = new Chunk[needed];
            Array.Copy(current, grown, current.Length);
            for (int i = current.Length; i < needed; i++)
            {
                grown[i] = new Chunk(_dim, _level0Stride, slabOf?.Invoke(i));
            }

            nint[] vectorBases = new nint[needed], linkBases = new nint[needed];
            for (int i = 0; i < needed; i++)
            {
                vectorBases[i] = (nint)grown[i].VectorBase;
                linkBases[i] = (nint)grown[i].Links0Base;
            }

            // Bases first: a reader that sees a node id of a new chunk must find its address.
            Volatile.Write(ref _vectorBases, vectorBases);
            Volatile.Write(ref _linkBases, linkBases);
            Volatile.Write(ref _chunks, grown);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* Vector(int node) => (float*)_vectorBases[node >> ChunkShift] + ((nint)(node & ChunkMask) * _dim);

    /// <summary>The layer-0 link list of <paramref name="node"/>: element 0 is the count, the ids follow.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int* Links0(int node) => (int*)_linkBases[node >> ChunkShift] + ((nint)(node & ChunkMask) * _level0Stride);

    /// <summary>A ref to the count slot of the link list on <paramref name="level"/>; the ids follow it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref int LinksRef(int node, int level)
    {
        if (level == 0)
        {
            return ref Unsafe.AsRef<int>(Links0(node));
        }

        int[] upper = _chunks[node >> ChunkShift].Upper[node & ChunkMask]!;
        return ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(upper), (level - 1) * _upperStride);
    }

    public int[]? UpperLinks(int node) => _chunks[node >> ChunkShift].Upper[node & ChunkMask];

    public void SetUpperLinks(int node, int[] links) => _chunks[node >> ChunkShift].Upper[node & ChunkMask] = links;

    public ref long Key(int node) => ref _chunks[node >> ChunkShift].Keys[node & ChunkMask];

    public ref ushort Tag(int node) => ref _chunks[node >> ChunkShift].Tags[node & ChunkMask];

    public ref byte Level(int node) => ref _chunks[node >> ChunkShift].Levels[node & ChunkMask];

    /// <summary>1 once the vector is written (exact scans skip nodes still being inserted).</summary>
    public ref byte Ready(int node) => ref _chunks[node >> ChunkShift].Ready[node & ChunkMask];

    /// <summary>1 once removed: still routes searches, never returned.</summary>
    public ref byte Deleted(int node) => ref _chunks[node >> ChunkShift].Deleted[node & ChunkMask];

    public Span<float> VectorSpan(int node) => new(Vector(node), _dim);

    /// <summary>The whole chunk's arrays, for bulk save and load.</summary>
    public Chunk GetChunk(int index) => _chunks[index];

    internal sealed class Chunk
    {
        public Chunk(int dim, int level0Stride, float[]? adoptedVectors = null)
        {
            if (adoptedVectors is not null && adoptedVectors.Length != ChunkSize * dim)
            {
                throw new ArgumentException($"An adopted slab holds {ChunkSize} vectors of {dim} floats, not {adoptedVectors.Length} floats.", nameof(adoptedVectors));
            }

            Adopted = adoptedVectors is not null;
            Vectors = adoptedVectors ?? GC.AllocateArray<float>(ChunkSize * dim, pinned: true);
            Links0 = GC.AllocateArray<int>(ChunkSize * level0Stride, pinned: true);
            VectorBase = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Vectors));
            Links0Base = (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Links0));
        }

        public float[] Vectors { get; }

        /// <summary>Whether <see cref="Vectors"/> is another index's pinned slab rather than this chunk's own.</summary>
        public bool Adopted { get; }

        public int[] Links0 { get; }

        public float* VectorBase { get; }

        public int* Links0Base { get; }

        public long[] Keys { get; } = new long[ChunkSize];

        public ushort[] Tags { get; } = new ushort[ChunkSize];

        public byte[] Levels { get; } = new byte[ChunkSize];

        public byte[] Ready { get; } = new byte[ChunkSize];

        public byte[] Deleted { get; } = new byte[ChunkSize];

        public int[]?[] Upper { get; } = new int[ChunkSize][];
    }
}
