using Google.Protobuf.Collections;

namespace Chroma.Internal;

/// <summary>Copies spans into protobuf repeated fields (Google.Protobuf has no public span overload).</summary>
internal static class RepeatedFields
{
    public static void Append(RepeatedField<float> field, ReadOnlySpan<float> values)
    {
        if (field.Capacity < field.Count + values.Length)
        {
            field.Capacity = field.Count + values.Length;
        }

        foreach (var value in values)
        {
            field.Add(value);
        }
    }
}
