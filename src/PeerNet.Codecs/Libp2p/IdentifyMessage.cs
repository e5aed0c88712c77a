using System.Diagnostics.CodeAnalysis;
using Google.Protobuf;
using PeerNet.Libp2p.Protos;

namespace PeerNet.Libp2p;

/// <summary>What a peer said about itself in identify (or identify/push), checked and bounded.</summary>
/// <param name="PublicKey">Its serialized public key, if sent (checked against its peer ID).</param>
/// <param name="ProtocolVersion">e.g. <c>ipfs/0.1.0</c>; sanitized and cut to <see cref="IdentifyMessage.MaxTextLength"/>.</param>
/// <param name="AgentVersion">e.g. <c>js-libp2p/3.0.0</c>; sanitized and cut.</param>
/// <param name="ListenAddrs">Addresses it listens on that this side can read (others, such as QUIC or WebSocket ones, are skipped).</param>
/// <param name="ObservedAddr">The address it sees this side at, if sent and readable.</param>
/// <param name="Protocols">The protocols it speaks (valid IDs only), or null when a push left them out.</param>
/// <param name="HasListenAddrs">Whether the message carried listen addresses (a push replaces only what it carries).</param>
internal sealed record IdentifyInfo(
    byte[]? PublicKey,
    string? ProtocolVersion,
    string? AgentVersion,
    IReadOnlyList<Multiaddr> ListenAddrs,
    Multiaddr? ObservedAddr,
    IReadOnlyList<string>? Protocols,
    bool HasListenAddrs);

/// <summary>The identify protocol's message (specs/identify): encoding ours, reading a peer's with limits.</summary>
internal static class IdentifyMessage
{
    /// <summary>The identify protocol.</summary>
    public const string ProtocolId = "/ipfs/id/1.0.0";

    /// <summary>The identify/push protocol.</summary>
    public const string PushProtocolId = "/ipfs/id/push/1.0.0";

    /// <summary>The protocol version libp2p peers send.</summary>
    public const string LibP2pProtocolVersion = "ipfs/0.1.0";

    /// <summary>Longest message read (js-libp2p's limit): 8 KiB.</summary>
    public const int MaxMessageLength = 8 * 1024;

    /// <summary>Most listen addresses read from a message.</summary>
    public const int MaxListenAddrs = 64;

    /// <summary>Most protocols read from a message.</summary>
    public const int MaxProtocols = 256;

    /// <summary>Longest protocol ID or version string kept.</summary>
    public const int MaxTextLength = 256;

    /// <summary>Encodes the message this side sends.</summary>
    public static byte[] Encode(byte[] publicKey, string agentVersion, IEnumerable<Multiaddr> listenAddrs, Multiaddr? observedAddr, IEnumerable<string> protocols)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        ArgumentNullException.ThrowIfNull(listenAddrs);
        ArgumentNullException.ThrowIfNull(protocols);
        var message = new Identify
        {
            ProtocolVersion = LibP2pProtocolVersion,
            AgentVersion = agentVersion,
            PublicKey = ByteString.CopyFrom(publicKey),
        };
        message.ListenAddrs.AddRange(listenAddrs.Take(MaxListenAddrs).Select(a => ByteString.CopyFrom(a.ToBytes())));
        message.Protocols.AddRange(protocols.Take(MaxProtocols));
        if (observedAddr is not null)
        {
            message.ObservedAddr = ByteString.CopyFrom(observedAddr.ToBytes());
        }

        return message.ToByteArray();
    }

    /// <summary>
    /// Reads a peer's message. Refused, with <paramref name="error"/>: over <see cref="MaxMessageLength"/>, not the
    /// protobuf message, over <see cref="MaxListenAddrs"/> addresses or <see cref="MaxProtocols"/> protocols, a public
    /// key that is not one or whose peer ID is not <paramref name="expected"/>, or (unless <paramref name="isPush"/>) no
    /// public key at all. Addresses and protocol IDs this side cannot read are skipped, not refused.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> bytes, Libp2pPeerId expected, bool isPush, [NotNullWhen(true)] out IdentifyInfo? info, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(expected);
        info = null;
        if (bytes.Length > MaxMessageLength)
        {
            error = $"the identify message is {bytes.Length} bytes, over {MaxMessageLength}";
            return false;
        }

        Identify message;
        try
        {
            message = Identify.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            error = $"not an identify message: {e.Message}";
            return false;
        }

        if (message.ListenAddrs.Count > MaxListenAddrs || message.Protocols.Count > MaxProtocols)
        {
            error = $"the identify message lists {message.ListenAddrs.Count} addresses and {message.Protocols.Count} protocols, over {MaxListenAddrs} and {MaxProtocols}";
            return false;
        }

        byte[]? publicKey = null;
        if (message.HasPublicKey)
        {
            publicKey = message.PublicKey.ToByteArray();
            Libp2pPeerId keyId;
            try
            {
                keyId = Libp2pPeerId.FromPublicKey(publicKey);
            }
            catch (ArgumentException e)
            {
                error = $"its public key is not one: {e.Message}";
                return false;
            }

            if (!keyId.Equals(expected))
            {
                error = $"its public key is peer {keyId}'s, not {expected}'s";
                return false;
            }
        }
        else if (!isPush)
        {
            error = "the identify message has no public key";
            return false;
        }

        var addrs = new List<Multiaddr>();
        foreach (ByteString raw in message.ListenAddrs)
        {
            if (Multiaddr.TryDecode(raw.Span, out Multiaddr? address, out _) && !addrs.Contains(address))
            {
                addrs.Add(address);
            }
        }

        Multiaddr? observed = null;
        if (message.HasObservedAddr && Multiaddr.TryDecode(message.ObservedAddr.Span, out Multiaddr? o, out _))
        {
            observed = o;
        }

        List<string>? protocols = null;
        if (!isPush || message.Protocols.Count > 0)
        {
            protocols = [.. message.Protocols.Where(p => p.Length <= MaxTextLength && MultistreamListener.IsValidProtocolId(p, MultistreamMessage.DefaultMaxLineLength)).Distinct(StringComparer.Ordinal)];
        }

        info = new IdentifyInfo(
            publicKey,
            message.HasProtocolVersion ? DisplayText.Sanitize(message.ProtocolVersion, MaxTextLength) : null,
            message.HasAgentVersion ? DisplayText.Sanitize(message.AgentVersion, MaxTextLength) : null,
            addrs,
            observed,
            protocols,
            message.ListenAddrs.Count > 0);
        error = null;
        return true;
    }
}
