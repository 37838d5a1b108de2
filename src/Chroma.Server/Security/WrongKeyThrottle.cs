using System.Collections.Concurrent;
using System.Net;

namespace Chroma.Server.Security;

/// <summary>
/// Slows down guessing of the API key: after <see cref="FailuresAllowed"/> wrong keys from one address within
/// <see cref="Window"/>, that address is refused (without its key being checked) until the window that began with its
/// first failure ends. A right key clears the address's count, so an address that mostly sends the right key is never
/// refused for an occasional wrong one. Kept in memory, per server, for at most <see cref="MaxAddresses"/> addresses.
/// One instance guards Studio's sign-in, another the gRPC calls (<see cref="ApiKeyCheck"/>).
/// </summary>
/// <remarks>
/// An IPv6 address counts by its /64 network (<see cref="Source"/>): one host is usually given a whole /64, so counting
/// single addresses would let it take a fresh one for every few guesses. An IPv4-mapped IPv6 address counts as its IPv4
/// address. When <see cref="MaxAddresses"/> addresses are counting failures at once, a further address is not counted
/// until some window ends (memory stays bounded; so many addresses are beyond what a per-address limit can stop, and the
/// key's length is the defence there).
/// </remarks>
internal sealed class WrongKeyThrottle
{
    /// <summary>The most addresses counted at once.</summary>
    public const int MaxAddresses = 10_000;

    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<IPAddress, Failures> _failures = new();
    private long _lastSweepTicks = long.MinValue / 2;

    /// <summary>
    /// Creates a throttle that allows <paramref name="failuresAllowed"/> wrong keys per address within
    /// <paramref name="window"/>, reading the time from <paramref name="time"/>.
    /// </summary>
    public WrongKeyThrottle(TimeProvider time, int failuresAllowed, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThan(failuresAllowed, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _time = time;
        FailuresAllowed = failuresAllowed;
        Window = window;
    }

    /// <summary>Gets how many wrong keys one address may send within <see cref="Window"/>.</summary>
    public int FailuresAllowed { get; }

    /// <summary>Gets how long failures count against an address.</summary>
    public TimeSpan Window { get; }

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
        if (_failures.Count >= MaxAddresses && !_failures.ContainsKey(address))
        {
            // A sweep reads every entry: at most one a second, however many new addresses fail meanwhile.
            var lastSweep = Interlocked.Read(ref _lastSweepTicks);
            if (now.UtcTicks - lastSweep < TimeSpan.TicksPerSecond || Interlocked.CompareExchange(ref _lastSweepTicks, now.UtcTicks, lastSweep) != lastSweep)
            {
                return;
            }

            foreach (var old in _failures.Where(f => f.Value.WindowStart + Window <= now).Select(f => f.Key).ToList())
            {
                _failures.TryRemove(old, out _);
            }

            if (_failures.Count >= MaxAddresses)
            {
                return;
            }
        }

        _failures.AddOrUpdate(
            address,
            _ => new Failures(now, 1),
            (_, f) => f.WindowStart + Window <= now ? new Failures(now, 1) : f with { Count = f.Count + 1 });
    }

    /// <summary>Clears the count of <paramref name="address"/> after a right key (a read without a lock when it has none).</summary>
    public void Succeeded(IPAddress? address)
    {
        if (address is null)
        {
            return;
        }

        address = Source(address);
        if (_failures.ContainsKey(address))
        {
            _failures.TryRemove(address, out _);
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
