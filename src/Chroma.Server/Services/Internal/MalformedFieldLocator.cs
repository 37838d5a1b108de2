using System.Buffers;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Chroma.Server.Services.Internal;

/// <summary>
/// Finds which string field of a serialized message holds invalid UTF-8, by walking the wire format
/// with the message's descriptor. Google.Protobuf refuses such a message as a whole without saying
/// where; this turns that into a path the caller can act on, e.g. <c>records[3].label</c>.
/// </summary>
internal static class MalformedFieldLocator
{
    // Strict: throws on the first invalid byte, where Encoding.UTF8 would substitute U+FFFD.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Real requests nest three levels (batch, record, inference/map entry); deeper means garbage.
    private const int MaxDepth = 16;

    /// <summary>The problem ("records[1].label: is not valid UTF-8"), or null when none is found.</summary>
    public static string? FindInvalidUtf8(ReadOnlySequence<byte> payload, MessageDescriptor descriptor)
    {
        try
        {
            return Walk(ByteString.CopyFrom(payload.ToArray()), descriptor, string.Empty, 0);
        }
        catch (InvalidProtocolBufferException)
        {
            // Malformed before the bad string: nothing more specific to say.
            return null;
        }
    }

    /// <summary>
    /// The problem of <paramref name="message"/>, a message nested in a request, with paths starting at
    /// <paramref name="prefix"/> (e.g. <c>records[3].</c>), or null when none is found.
    /// </summary>
    public static string? FindInvalidUtf8(ByteString message, MessageDescriptor descriptor, string prefix)
    {
        try
        {
            return Walk(message, descriptor, prefix, 1);
        }
        catch (InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>
    /// The top-level string field <paramref name="fieldNumber"/> when it decodes (e.g. a batch id to
    /// echo in the ack of a batch that did not), else the empty string.
    /// </summary>
    public static string ReadString(ReadOnlySequence<byte> payload, int fieldNumber)
    {
        try
        {
            var input = new CodedInputStream(payload.ToArray());
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == fieldNumber && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                {
                    var bytes = input.ReadBytes();
                    return IsValid(bytes) ? bytes.ToStringUtf8() : string.Empty;
                }

                input.SkipLastField();
            }
        }
        catch (InvalidProtocolBufferException)
        {
            // Truncated or garbled before the field: there is nothing to echo.
        }

        return string.Empty;
    }

    private static string? Walk(ByteString message, MessageDescriptor descriptor, string prefix, int depth)
    {
        if (depth > MaxDepth)
        {
            return null;
        }

        var input = message.CreateCodedInput();
        var occurrences = new Dictionary<int, int>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = descriptor.FindFieldByNumber(WireFormat.GetTagFieldNumber(tag));
            if (field is null || WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }

            var index = occurrences.GetValueOrDefault(field.FieldNumber);
            occurrences[field.FieldNumber] = index + 1;
            var bytes = input.ReadBytes();
            var path = prefix + field.Name + (field.IsRepeated && !field.IsMap ? string.Create(CultureInfo.InvariantCulture, $"[{index}]") : string.Empty);
            var problem = field.FieldType switch
            {
                FieldType.String => IsValid(bytes) ? null : $"{path}: is not valid UTF-8",
                FieldType.Message when field.IsMap => MapEntry(bytes, path),
                FieldType.Message => Walk(bytes, field.MessageType, path + ".", depth + 1),
                _ => null,
            };
            if (problem is not null)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? MapEntry(ByteString entry, string path)
    {
        // Map entries are messages with key = 1 and value = 2; only string keys and values occur here.
        var input = entry.CreateCodedInput();
        ByteString? key = null;
        ByteString? value = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
            }
            else if (WireFormat.GetTagFieldNumber(tag) == 1)
            {
                key = input.ReadBytes();
            }
            else if (WireFormat.GetTagFieldNumber(tag) == 2)
            {
                value = input.ReadBytes();
            }
            else
            {
                input.SkipLastField();
            }
        }

        if (key is not null && !IsValid(key))
        {
            return $"{path}: a key is not valid UTF-8";
        }

        return value is not null && !IsValid(value)
            ? $"{path}[\"{key?.ToStringUtf8()}\"]: value is not valid UTF-8"
            : null;
    }

    /// <summary>Whether <paramref name="bytes"/> are valid UTF-8.</summary>
    public static bool IsValid(ByteString bytes)
    {
        try
        {
            _ = StrictUtf8.GetCharCount(bytes.Span);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
