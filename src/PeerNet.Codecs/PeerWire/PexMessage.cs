using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using PeerNet.Bencode;

namespace PeerNet.PeerWire;

/// <summary>
/// A BEP 11 ut_pex message: peers the sender connected to (<c>added</c>, <c>added6</c>, with one flags byte
/// each in <c>added.f</c>, <c>added6.f</c>) and peers it lost (<c>dropped</c>, <c>dropped6</c>), in compact
/// form. IPv4 and IPv6 peers share one list here; the encoder splits them by family.
/// </summary>
internal sealed class PexMessage
{
    /// <summary>
    /// Most added, and most dropped, peers this codec sends in one message: "no more than 50 added peers and
    /// 50 removed peers" (the ut_pex convention agreed between clients), IPv4 and IPv6 together.
    /// </summary>
    public const int MaxPeersPerMessage = 50;

    /// <summary>
    /// Most added, and most dropped, peers accepted in one received message. Above 50 because libtorrent sends
    /// up to 100 added peers and its dropped list is as long as its previous peer list.
    /// </summary>
    public const int DefaultMaxReceivedPeers = 200;

    /// <summary>Peers the sender is now connected to.</summary>
    public IReadOnlyList<PexPeer> Added { get; init; } = [];

    /// <summary>Peers the sender is no longer connected to.</summary>
    public IReadOnlyList<IPEndPoint> Dropped { get; init; } = [];

    /// <summary>
    /// Parses the payload of a ut_pex extended message (after the extended id byte). Liberal like libtorrent:
    /// a key of the wrong type counts as empty, and flags whose count does not match their list are ignored.
    /// Refused: a payload that is not a dictionary, a list whose length is not a whole number of compact peers,
    /// and more than <paramref name="maxPeers"/> added or dropped peers.
    /// </summary>
    public static bool TryParse(in ReadOnlySequence<byte> payload, [NotNullWhen(true)] out PexMessage? message, out PeerWireError error, int maxPeers = DefaultMaxReceivedPeers)
    {
        message = null;
        ReadOnlyMemory<byte> data = SequenceReading.Contiguous(payload, out byte[]? rented);
        try
        {
            if (!ExtensionPayload.TryParseDictionary(data, out BencodeDocument? document, out _, out error))
            {
                return false;
            }

            using (document)
            {
                return TryRead(document.Root, maxPeers, out message, out error);
            }
        }
        finally
        {
            SequenceReading.Return(rented);
        }
    }

    /// <summary>Writes the bencoded dictionary (the payload after the extended id), all six keys, sorted.</summary>
    public void WritePayload(IBufferWriter<byte> output)
    {
        if (Added.Count > MaxPeersPerMessage || Dropped.Count > MaxPeersPerMessage)
        {
            ThrowHelper.ThrowInvalidOperation($"A PEX message carries at most {MaxPeersPerMessage} added and {MaxPeersPerMessage} dropped peers.");
        }

        int added4 = 0;
        foreach (PexPeer peer in Added)
        {
            added4 += CompactPeer.IsV4(peer.EndPoint.Address) ? 1 : 0;
        }

        int dropped4 = 0;
        foreach (IPEndPoint peer in Dropped)
        {
            dropped4 += CompactPeer.IsV4(peer.Address) ? 1 : 0;
        }

        // At most 50 peers of 18 bytes per list: small enough for the stack.
        Span<byte> addedV4 = stackalloc byte[added4 * CompactPeer.V4Length];
        Span<byte> addedV4Flags = stackalloc byte[added4];
        Span<byte> addedV6 = stackalloc byte[(Added.Count - added4) * CompactPeer.V6Length];
        Span<byte> addedV6Flags = stackalloc byte[Added.Count - added4];
        int i4 = 0, i6 = 0;
        foreach (PexPeer peer in Added)
        {
            if (CompactPeer.IsV4(peer.EndPoint.Address))
            {
                CompactPeer.Write(addedV4[(i4 * CompactPeer.V4Length)..], peer.EndPoint);
                addedV4Flags[i4++] = (byte)peer.Flags;
            }
            else
            {
                CompactPeer.Write(addedV6[(i6 * CompactPeer.V6Length)..], peer.EndPoint);
                addedV6Flags[i6++] = (byte)peer.Flags;
            }
        }

        Span<byte> droppedV4 = stackalloc byte[dropped4 * CompactPeer.V4Length];
        Span<byte> droppedV6 = stackalloc byte[(Dropped.Count - dropped4) * CompactPeer.V6Length];
        i4 = 0;
        i6 = 0;
        foreach (IPEndPoint peer in Dropped)
        {
            if (CompactPeer.IsV4(peer.Address))
            {
                CompactPeer.Write(droppedV4[(i4++ * CompactPeer.V4Length)..], peer);
            }
            else
            {
                CompactPeer.Write(droppedV6[(i6++ * CompactPeer.V6Length)..], peer);
            }
        }

        var w = new BencodeWriter(output);
        w.WriteDictionaryStart();
        w.WriteString("added"u8);
        w.WriteString(addedV4);
        w.WriteString("added.f"u8);
        w.WriteString(addedV4Flags);
        w.WriteString("added6"u8);
        w.WriteString(addedV6);
        w.WriteString("added6.f"u8);
        w.WriteString(addedV6Flags);
        w.WriteString("dropped"u8);
        w.WriteString(droppedV4);
        w.WriteString("dropped6"u8);
        w.WriteString(droppedV6);
        w.WriteEnd();
    }

    /// <summary>Writes the whole peer-wire message: length prefix, id 20, <paramref name="extendedId"/>, payload.</summary>
    public void WriteMessage(IBufferWriter<byte> output, byte extendedId)
    {
        using var payload = new PooledBufferWriter(1024);
        WritePayload(payload);
        PeerMessageWriter.WriteExtended(output, extendedId, payload.WrittenSpan);
    }

    private static bool TryRead(BencodeNode root, int maxPeers, out PexMessage? message, out PeerWireError error)
    {
        message = null;
        ReadOnlySpan<byte> added = root["added"u8].StringSpan;
        ReadOnlySpan<byte> addedFlags = root["added.f"u8].StringSpan;
        ReadOnlySpan<byte> added6 = root["added6"u8].StringSpan;
        ReadOnlySpan<byte> added6Flags = root["added6.f"u8].StringSpan;
        ReadOnlySpan<byte> dropped = root["dropped"u8].StringSpan;
        ReadOnlySpan<byte> dropped6 = root["dropped6"u8].StringSpan;
        if (added.Length % CompactPeer.V4Length != 0 || dropped.Length % CompactPeer.V4Length != 0
            || added6.Length % CompactPeer.V6Length != 0 || dropped6.Length % CompactPeer.V6Length != 0)
        {
            error = PeerWireError.PexPeerListInvalid;
            return false;
        }

        int addedCount = (added.Length / CompactPeer.V4Length) + (added6.Length / CompactPeer.V6Length);
        int droppedCount = (dropped.Length / CompactPeer.V4Length) + (dropped6.Length / CompactPeer.V6Length);
        if (addedCount > maxPeers || droppedCount > maxPeers)
        {
            error = PeerWireError.PexTooManyPeers;
            return false;
        }

        var addedPeers = new List<PexPeer>(addedCount);
        ReadAdded(added, addedFlags, CompactPeer.V4Length, addedPeers);
        ReadAdded(added6, added6Flags, CompactPeer.V6Length, addedPeers);
        var droppedPeers = new List<IPEndPoint>(droppedCount);
        ReadDropped(dropped, CompactPeer.V4Length, droppedPeers);
        ReadDropped(dropped6, CompactPeer.V6Length, droppedPeers);
        message = new PexMessage { Added = addedPeers, Dropped = droppedPeers };
        error = PeerWireError.None;
        return true;
    }

    private static void ReadAdded(ReadOnlySpan<byte> peers, ReadOnlySpan<byte> flags, int size, List<PexPeer> into)
    {
        int count = peers.Length / size;

        // As libtorrent: flags are used only when there is exactly one per peer.
        bool haveFlags = flags.Length == count;
        for (int i = 0; i < count; i++)
        {
            into.Add(new PexPeer(CompactPeer.Read(peers.Slice(i * size, size)), haveFlags ? (PexFlags)flags[i] : PexFlags.None));
        }
    }

    private static void ReadDropped(ReadOnlySpan<byte> peers, int size, List<IPEndPoint> into)
    {
        for (int i = 0; i < peers.Length / size; i++)
        {
            into.Add(CompactPeer.Read(peers.Slice(i * size, size)));
        }
    }
}
