using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>How a receiver answered a direct message.</summary>
internal enum DirectMessageAckStatus
{
    /// <summary>Handed to the receiving application.</summary>
    Delivered,

    /// <summary>Not taken: no application receives messages, or it failed.</summary>
    Refused,

    /// <summary>Over the receiver's size limit.</summary>
    TooLarge,
}

/// <summary>A direct message as read from the wire.</summary>
/// <param name="Id">The sender's ID of it, echoed in the acknowledgement.</param>
/// <param name="Data">Its bytes.</param>
/// <param name="SentUnixMilliseconds">When the sender sent it, by the sender's clock.</param>
internal sealed record DirectMessageFrame(ulong Id, byte[] Data, long SentUnixMilliseconds);

/// <summary>An acknowledgement as read from the wire.</summary>
/// <param name="Id">The message it answers.</param>
/// <param name="Status">The outcome.</param>
/// <param name="Reason">The receiver's words when it did not deliver (sanitized, cut to <see cref="DirectMessageCodec.MaxReasonLength"/>).</param>
internal sealed record DirectMessageAck(ulong Id, DirectMessageAckStatus Status, string? Reason);

/// <summary>
/// <c>/peernet/dm/1.0.0</c>'s messages (Protos/dm.proto), each sent with a varint length prefix: the sender's
/// <c>DmMessage</c> then the receiver's <c>DmAck</c> with the same ID. Readers check the size caps first.
/// </summary>
internal static class DirectMessageCodec
{
    /// <summary>The protocol ID.</summary>
    public const string ProtocolId = "/peernet/dm/1.0.0";

    /// <summary>Largest message data: 64 KiB.</summary>
    public const int MaxDataLength = 64 * 1024;

    /// <summary>Largest encoded <c>DmMessage</c> read: the data and room for the other fields.</summary>
    public const int MaxMessageLength = MaxDataLength + 64;

    /// <summary>Largest encoded <c>DmAck</c> read.</summary>
    public const int MaxAckLength = 512;

    /// <summary>Longest reason kept from an acknowledgement.</summary>
    public const int MaxReasonLength = 200;

    /// <summary>Encodes a message (without its length prefix).</summary>
    public static byte[] EncodeMessage(ulong id, ReadOnlySpan<byte> data, long sentUnixMilliseconds)
    {
        if (data.Length > MaxDataLength)
        {
            throw new ArgumentException($"a direct message carries at most {MaxDataLength} bytes, not {data.Length}", nameof(data));
        }

        return new DmMessage { Id = id, Data = ByteString.CopyFrom(data), SentUnixMs = sentUnixMilliseconds }.ToByteArray();
    }

    /// <summary>
    /// Encodes a message of any size, even over <see cref="MaxDataLength"/> (what a sender that does not check would
    /// send; tests of the receiver's limit use it).
    /// </summary>
    internal static byte[] EncodeUnchecked(ulong id, ReadOnlySpan<byte> data) =>
        new DmMessage { Id = id, Data = ByteString.CopyFrom(data) }.ToByteArray();

    /// <summary>Reads a message body; false with <paramref name="error"/> when it is not one or too large.</summary>
    public static bool TryDecodeMessage(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out DirectMessageFrame? message, [NotNullWhen(false)] out string? error)
    {
        message = null;
        if (bytes.Length > MaxMessageLength)
        {
            error = $"a {bytes.Length}-byte message, over the {MaxMessageLength}-byte limit";
            return false;
        }

        DmMessage parsed;
        try
        {
            parsed = DmMessage.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not a direct message: {e.Message}";
            return false;
        }

        if (parsed.Data.Length > MaxDataLength)
        {
            error = $"{parsed.Data.Length} bytes of data, over the {MaxDataLength}-byte limit";
            return false;
        }

        message = new DirectMessageFrame(parsed.Id, parsed.Data.ToByteArray(), parsed.SentUnixMs);
        error = null;
        return true;
    }

    /// <summary>Encodes an acknowledgement (without its length prefix); the reason is cut to <see cref="MaxReasonLength"/>.</summary>
    public static byte[] EncodeAck(ulong id, DirectMessageAckStatus status, string? reason = null)
    {
        var ack = new DmAck
        {
            Id = id,
            Status = status switch
            {
                DirectMessageAckStatus.Delivered => DmAck.Types.Status.Delivered,
                DirectMessageAckStatus.TooLarge => DmAck.Types.Status.TooLarge,
                _ => DmAck.Types.Status.Refused,
            },
        };
        if (reason is not null)
        {
            ack.Reason = reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason;
        }

        return ack.ToByteArray();
    }

    /// <summary>Reads an acknowledgement; an unknown status reads as refused.</summary>
    public static bool TryDecodeAck(ReadOnlySpan<byte> bytes, [NotNullWhen(true)] out DirectMessageAck? ack, [NotNullWhen(false)] out string? error)
    {
        ack = null;
        if (bytes.Length > MaxAckLength)
        {
            error = $"a {bytes.Length}-byte acknowledgement, over the {MaxAckLength}-byte limit";
            return false;
        }

        DmAck parsed;
        try
        {
            parsed = DmAck.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not an acknowledgement: {e.Message}";
            return false;
        }

        DirectMessageAckStatus status = parsed.Status switch
        {
            DmAck.Types.Status.Delivered => DirectMessageAckStatus.Delivered,
            DmAck.Types.Status.TooLarge => DirectMessageAckStatus.TooLarge,
            _ => DirectMessageAckStatus.Refused,
        };
        string? reason = parsed.Reason.Length == 0 ? null : DisplayText.Sanitize(parsed.Reason, MaxReasonLength);
        ack = new DirectMessageAck(parsed.Id, status, reason);
        error = null;
        return true;
    }
}
