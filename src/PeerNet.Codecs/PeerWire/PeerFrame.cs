using System.Buffers;

namespace PeerNet.PeerWire;

/// <summary>
/// One length-prefixed peer-wire message as framed by <see cref="PeerFrameReader"/>: a keep-alive, or a
/// message id and a payload that is a slice of the receive buffer (valid until that buffer is advanced).
/// </summary>
internal readonly struct PeerFrame
{
    private PeerFrame(bool isKeepAlive, PeerMessageId id, ReadOnlySequence<byte> payload)
    {
        IsKeepAlive = isKeepAlive;
        Id = id;
        Payload = payload;
    }

    /// <summary>The zero-length keep-alive.</summary>
    public static PeerFrame KeepAlive => new(true, default, default);

    /// <summary>True for a keep-alive (length prefix 0), which has no id and no payload.</summary>
    public bool IsKeepAlive { get; }

    /// <summary>The message id; meaningless for a keep-alive. It may be an id this codec does not know.</summary>
    public PeerMessageId Id { get; }

    /// <summary>The bytes after the id, as a slice of the receive buffer.</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>The value of the length prefix: 0 for a keep-alive, else 1 + payload length.</summary>
    public int Length => IsKeepAlive ? 0 : 1 + (int)Payload.Length;

    /// <summary>A message with an id and payload.</summary>
    public static PeerFrame Create(PeerMessageId id, ReadOnlySequence<byte> payload) => new(false, id, payload);
}
