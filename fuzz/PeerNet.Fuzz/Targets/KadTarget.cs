using PeerNet.Libp2p;

namespace PeerNet.Fuzz;

/// <summary>
/// The Kademlia DHT's messages (<see cref="KadCodec"/>) as a stream of varint-length-prefixed frames: each frame read in
/// turn until the input ends, needs more or is refused (a refusal names an error and gives no message). An accepted
/// message keeps every limit (key, value, peers, addresses); its encoding reads back to the same message and encodes
/// to the same bytes; the record validator never throws.
/// </summary>
public static class KadTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            VarintStatus status = KadCodec.TryRead(data, out KadRpc? rpc, out int consumed, out string? error);
            if (status == VarintStatus.NeedMore)
            {
                Check.That(rpc is null && error is null, "NeedMore with a message or an error");
                return;
            }

            if (status == VarintStatus.Invalid)
            {
                Check.That(!string.IsNullOrEmpty(error), "refused with no error");
                Check.That(rpc is null, "refused with a message");
                return;
            }

            Check.That(rpc is not null && consumed > 0 && consumed <= data.Length, "Ok without a message or with a bad length");
            CheckLimits(rpc!);
            byte[] encoded = KadCodec.Encode(rpc!);
            Check.That(KadCodec.TryDecode(encoded, out KadRpc? again, out string? againError), $"its own encoding is refused: {againError}");
            Check.Bytes(encoded, KadCodec.Encode(again), "bytes after a second round trip");
            Check.Equal(rpc!.Type, again.Type, "type after a round trip");
            Check.Bytes(rpc.Key, again.Key, "key after a round trip");
            Check.SequenceEqual(rpc.CloserPeers.Select(p => p.Id), again.CloserPeers.Select(p => p.Id), "closer peers after a round trip");
            Check.SequenceEqual(rpc.ProviderPeers.SelectMany(p => p.Addresses), again.ProviderPeers.SelectMany(p => p.Addresses), "provider addresses after a round trip");
            if (rpc.Record is { } record)
            {
                _ = KadRecords.Validate(record.Key, record.Value, out _);
            }

            _ = KadRecords.Validate(rpc.Key, rpc.Key, out _);
            data = data[consumed..];
        }
    }

    private static void CheckLimits(KadRpc rpc)
    {
        Check.That(Enum.IsDefined(rpc.Type), $"type {(int)rpc.Type}");
        Check.That(rpc.Key.Length <= KadCodec.MaxKeyLength, "key over the limit");
        Check.That(rpc.Record is null || (rpc.Record.Key.Length <= KadCodec.MaxKeyLength && rpc.Record.Value.Length <= KadCodec.MaxValueLength && rpc.Record.TimeReceived.Length <= KadCodec.MaxTimeLength), "record over the limits");
        foreach (IReadOnlyList<KadPeer> peers in new[] { rpc.CloserPeers, rpc.ProviderPeers })
        {
            Check.That(peers.Count <= KadCodec.MaxPeersPerMessage, "too many peers");
            Check.That(peers.All(p => p.Addresses.Count <= KadCodec.MaxAddressesPerPeer && p.Addresses.Distinct().Count() == p.Addresses.Count), "too many or repeated addresses");
        }
    }
}
