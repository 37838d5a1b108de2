using Google.Protobuf;
using Google.Protobuf.Collections;

namespace Chroma.Internal;

/// <summary>Copies spans into protobuf repeated fields (Google.Protobuf has no public span overload).</summary>
internal static class RepeatedFields
{
    /// <summary>Appends <paramref name="values"/> to <paramref name="field"/> with one block copy (not one <c>Add</c> per value).</summary>
    public static void Append(RepeatedField<float> field, ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        var start = field.Count;
        UnsafeCollectionOperations.SetCount(field, start + values.Length);
        values.CopyTo(UnsafeCollectionOperations.AsSpan(field)[start..]);
    }
}
