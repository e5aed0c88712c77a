using System.Net;
using System.Security.Cryptography;

namespace PeerNet.Discovery.Dht;

/// <summary>
/// announce_peer/put write tokens. BEP 5: "the token [is] the SHA1 hash of the IP address concatenated onto a
/// secret that changes every five minutes and tokens up to ten minutes old are accepted": we accept the current
/// and the previous secret. Thread-safe.
/// </summary>
internal sealed class WriteTokens
{
    /// <summary>How long one secret lives.</summary>
    public static readonly TimeSpan Rotation = TimeSpan.FromMinutes(5);

    /// <summary>Bytes of the hash sent as the token.</summary>
    public const int TokenLength = 8;

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private byte[] _current = RandomNumberGenerator.GetBytes(16);
    private byte[] _previous = RandomNumberGenerator.GetBytes(16);
    private long _rotatedAt;

    public WriteTokens(TimeProvider time)
    {
        _time = time;
        _rotatedAt = time.GetTimestamp();
    }

    /// <summary>The token for <paramref name="address"/> under the current secret.</summary>
    public byte[] Create(IPAddress address)
    {
        lock (_lock)
        {
            RotateIfDueLocked();
            return Compute(_current, address);
        }
    }

    /// <summary>Whether <paramref name="token"/> was given to <paramref name="address"/> under the current or previous secret.</summary>
    public bool IsValid(ReadOnlySpan<byte> token, IPAddress address)
    {
        byte[] current, previous;
        lock (_lock)
        {
            RotateIfDueLocked();
            current = _current;
            previous = _previous;
        }

        return CryptographicOperations.FixedTimeEquals(token, Compute(current, address))
            || CryptographicOperations.FixedTimeEquals(token, Compute(previous, address));
    }

    private void RotateIfDueLocked()
    {
        TimeSpan elapsed = _time.GetElapsedTime(_rotatedAt);
        if (elapsed < Rotation)
        {
            return;
        }

        // After two rotations with no call in between, neither old secret may still be accepted.
        _previous = elapsed >= Rotation * 2 ? RandomNumberGenerator.GetBytes(16) : _current;
        _current = RandomNumberGenerator.GetBytes(16);
        _rotatedAt = _time.GetTimestamp();
    }

    private static byte[] Compute(byte[] secret, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> input = stackalloc byte[16 + 16];
        address.TryWriteBytes(input, out int length);
        secret.CopyTo(input[length..]);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..(length + secret.Length)], hash);
        return hash[..TokenLength].ToArray();
    }
}
