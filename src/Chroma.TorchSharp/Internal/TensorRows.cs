using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Chroma.TorchSharp.Internal;

/// <summary>Copies a batch tensor off the autograd graph into a reusable managed buffer, one row per batch element.</summary>
internal static class TensorRows
{
    /// <summary>
    /// Copies <paramref name="tensor"/> (shape <c>[rows, ...]</c>, any device, any floating type) into
    /// <paramref name="buffer"/> as float32, growing it when it is too short. The trailing dimensions are flattened
    /// into the row width. A contiguous float32 CPU tensor is read in place; any other is detached, moved and converted
    /// in a dispose scope whose temporaries are gone before this returns, so the capture keeps nothing of the graph alive.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has no batch dimension.</exception>
    public static void CopyTo(Tensor tensor, ref float[] buffer, out int rows, out int width)
    {
        if (tensor.Dimensions == 0)
        {
            throw new ArgumentException("A scalar tensor has no batch dimension.", nameof(tensor));
        }

        rows = checked((int)tensor.size(0));
        var count = checked((int)tensor.numel());
        width = rows == 0 ? 0 : count / rows;
        if (buffer.Length < count)
        {
            buffer = new float[Math.Max(count, buffer.Length * 2)];
        }

        if (count == 0)
        {
            return;
        }

        if (tensor.device_type == DeviceType.CPU && tensor.dtype == ScalarType.Float32 && tensor.is_contiguous())
        {
            // The common case: read the storage in place. Reading records nothing on the autograd graph and creates
            // no tensor, which saves the microseconds a detached handle and a dispose scope cost per hook.
            MemoryMarshal.Cast<byte, float>(tensor.bytes)[..count].CopyTo(buffer);
            return;
        }

        using var scope = NewDisposeScope();
        var host = tensor.detach();
        if (host.device_type != DeviceType.CPU)
        {
            host = host.cpu();
        }

        if (host.dtype != ScalarType.Float32)
        {
            host = host.to_type(ScalarType.Float32);
        }

        if (!host.is_contiguous())
        {
            host = host.contiguous();
        }

        // A contiguous CPU tensor exposes its storage as bytes without a copy; one copy lands it in our buffer.
        MemoryMarshal.Cast<byte, float>(host.bytes)[..count].CopyTo(buffer);
    }
}
