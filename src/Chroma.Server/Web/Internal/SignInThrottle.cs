using System.Collections.Concurrent;
using System.Net;

namespace Chroma.Server.Web.Internal;

/// <summary>
/// Slows down guessing of the API key through Studio's sign-in: after <see cref="FailuresAllowed"/> wrong keys from one
/// address within <see cref="Window"/>, that address gets 429 (with the seconds to wait) until the window that began
/// with its first failure ends. A right key clears the address's count. Kept in memory, per server.
/// </summary>
/// <remarks>
/// An IPv6 address counts by its /64 network (<see cref="Source"/>): one host is usually given a whole /64, so counting
/// single addresses would let it take a fresh one for every few guesses. An IPv4-mapped IPv6 address counts as its IPv4
/// address.
/// </remarks>
internal sealed class SignInThrottle
{
    /// <summary>Wrong keys one address may send within <see cref="Window"/>.</summary>
    public const int FailuresAllowed = 5;

    /// <summary>How long failures count against an address.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private const int MaxAddresses = 10_000;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<IPAddress, Failures> _failures = new();

    /// <summary>Creates a throttle that reads the time from <paramref name="time"/>.</summary>
    public SignInThrottle(TimeProvider time) => _time = time;

    /// <summary>How long <paramref name="address"/> must wait before it may try a key again, or null when it may now.</summary>
    public TimeSpan? RetryAfter(IPAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        address = Source(address);
        if (!_failures.TryGetValue(address, out var failures))
        {
            return null;
        }

        var left = failures.WindowStart + Window - _time.GetUtcNow();
        if (left <= TimeSpan.Zero)
        {
            _failures.TryRemove(new KeyValuePair<IPAddress, Failures>(address, failures));
            return null;
        }

        return failures.Count >= FailuresAllowed ? left : null;
    }

    /// <summary>Counts a wrong key from <paramref name="address"/>.</summary>
    public void Failed(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }

        address = Source(address);
        var now = _time.GetUtcNow();
        if (_failures.Count >= MaxAddresses)
        {
            foreach (var old in _failures.Where(f => f.Value.WindowStart + Window <= now).Select(f => f.Key).ToList())
            {
                _failures.TryRemove(old, out _);
            }
        }

        _failures.AddOrUpdate(
            address,
            _ => new Failures(now, 1),
            (_, f) => f.WindowStart + Window <= now ? new Failures(now, 1) : f with { Count = f.Count + 1 });
    }

    /// <summary>Clears the count of <paramref name="address"/> after a right key.</summary>
    public void Succeeded(IPAddress? address)
    {
        if (address is not null)
        {
            _failures.TryRemove(Source(address), out _);
        }
    }

    /// <summary>
    /// What failures of <paramref name="address"/> count against: an IPv4 address itself (also when it came mapped into
    /// IPv6), an IPv6 address's /64 network (its first 8 bytes, the rest zero).
    /// </summary>
    public static IPAddress Source(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }

    private sealed record Failures(DateTimeOffset WindowStart, int Count);
}
