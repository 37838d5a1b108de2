namespace Chroma.Internal;

/// <summary>Client-generated record ids: UUIDv7 (time-ordered, RFC 9562) from the capture time, in canonical text form.</summary>
internal static class RecordIds
{
    public static string NewId(long timestampUnixMs) =>
        Guid.CreateVersion7(DateTimeOffset.FromUnixTimeMilliseconds(timestampUnixMs)).ToString("D");

    public static string NewBatchId() => Guid.CreateVersion7().ToString("D");
}
