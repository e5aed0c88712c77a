using System.Text;

namespace PeerNet.Libp2p;

/// <summary>A direct message a peer sent this node (<c>/peernet/dm/1.0.0</c>).</summary>
public sealed record DirectMessage
{
    /// <summary>The sender (authenticated by the connection's Noise handshake).</summary>
    public required Libp2pPeerId From { get; init; }

    /// <summary>The sender's number for it (acknowledged by it).</summary>
    public ulong Id { get; init; }

    /// <summary>The message's bytes (at most <see cref="Libp2pService.MaxMessageLength"/>).</summary>
    public ReadOnlyMemory<byte> Data { get; init; }

    /// <summary>When this node received it.</summary>
    public DateTimeOffset Received { get; init; }

    /// <summary>When the sender says it sent it (by the sender's clock).</summary>
    public DateTimeOffset Sent { get; init; }

    /// <summary><see cref="Data"/> read as UTF-8 (invalid bytes as U+FFFD); not sanitized for a terminal.</summary>
    public string Text => Encoding.UTF8.GetString(Data.Span);
}

/// <summary>Why a direct message was not delivered.</summary>
public enum DirectMessageFailure
{
    /// <summary>No connection to the peer and no address to dial it at, or the dial failed.</summary>
    Unreachable,

    /// <summary>The peer does not take direct messages (it does not serve the protocol).</summary>
    NotSupported,

    /// <summary>The peer's application refused it (or there was none to hand it to).</summary>
    Refused,

    /// <summary>Over the receiver's size limit.</summary>
    TooLarge,

    /// <summary>No acknowledgement in time.</summary>
    Timeout,

    /// <summary>The connection or stream ended before the acknowledgement.</summary>
    ConnectionLost,
}

/// <summary>A direct message that was not acknowledged as delivered: <see cref="Failure"/> says why, the message in words.</summary>
public sealed class DirectMessageException : IOException
{
    /// <summary>Creates the exception.</summary>
    public DirectMessageException(DirectMessageFailure failure, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Failure = failure;
    }

    /// <summary>Why the message was not delivered.</summary>
    public DirectMessageFailure Failure { get; }
}
