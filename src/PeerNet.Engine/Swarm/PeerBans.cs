using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;

namespace PeerNet.Swarm;

/// <summary>
/// A torrent's banned addresses and its suspects. An address is banned for sending data that failed verification;
/// the set is read by the accept and dial paths of other threads, so it is safe from any thread. Suspects are
/// libtorrent's smart-ban idea: after a hash failure, a digest of each block and who sent it is kept; when the piece
/// later passes, every sender whose block differs from the good one sent bad data. The suspects are the loop's.
/// </summary>
internal sealed class PeerBans
{
    private readonly ConcurrentDictionary<IPAddress, byte> _banned = new(concurrencyLevel: 1, capacity: 4); // small: one per torrent, rarely written, and a node may host thousands of torrents
    private readonly Dictionary<int, List<Suspect>> _suspects = [];
    private readonly int _blockLength;
    private int _count; // of _banned

    public PeerBans(int blockLength) => _blockLength = blockLength;

    /// <summary>How many addresses are banned (safe from any thread).</summary>
    public int Count => Volatile.Read(ref _count); // not _banned.Count, which takes every lock of the dictionary

    /// <summary>The banned addresses (a copy; safe from any thread).</summary>
    public IReadOnlyCollection<IPAddress> Addresses => [.. _banned.Keys];

    /// <summary>Pieces that failed and have not passed since (on the loop).</summary>
    public int SuspectedPieces => _suspects.Count;

    /// <summary>Whether <paramref name="address"/> is banned (safe from any thread).</summary>
    public bool IsBanned(IPAddress address) => _banned.ContainsKey(address);

    /// <summary>Bans an address; <see cref="IPAddress.None"/> (a sender whose address is not known) is ignored.</summary>
    public void Ban(IPAddress address)
    {
        if (!address.Equals(IPAddress.None))
        {
            if (_banned.TryAdd(address, 0))
            {
                Interlocked.Increment(ref _count);
            }
        }
    }

    /// <summary>
    /// A piece failed its hash: remembers, for each block that had a sender (<paramref name="senders"/>, peer ids, with
    /// their <paramref name="addresses"/>; blocks past them are pad), a digest of what that sender's block held.
    /// </summary>
    public void RecordFailure(int piece, ReadOnlySpan<int> senders, ReadOnlySpan<IPAddress> addresses, ReadOnlySpan<byte> data)
    {
        List<Suspect> record = _suspects.TryGetValue(piece, out List<Suspect>? list) ? list : _suspects[piece] = [];
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        for (int block = 0; block < senders.Length; block++)
        {
            SHA256.HashData(Block(data, block), digest);
            record.Add(new Suspect(senders[block], addresses[block], block, digest.ToArray()));
        }
    }

    /// <summary>
    /// The piece passed with <paramref name="data"/>: bans the address of every suspect whose block differs from it
    /// (even if that peer has left) and adds it to <paramref name="convicted"/>, for the loop to close the peer.
    /// </summary>
    public void Convict(int piece, ReadOnlySpan<byte> data, List<Suspect> convicted)
    {
        if (!_suspects.Remove(piece, out List<Suspect>? records))
        {
            return;
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        foreach (Suspect suspect in records)
        {
            SHA256.HashData(Block(data, suspect.Block), digest);
            if (!digest.SequenceEqual(suspect.Digest))
            {
                // Proven: this block differs from the verified one.
                Ban(suspect.Address);
                convicted.Add(suspect);
            }
        }
    }

    private ReadOnlySpan<byte> Block(ReadOnlySpan<byte> data, int block)
    {
        int begin = block * _blockLength;
        return data.Slice(begin, Math.Min(_blockLength, data.Length - begin));
    }

    /// <summary>Who sent <paramref name="Block"/> of a failed piece (a peer id and its address), and what it held.</summary>
    internal sealed record Suspect(int Peer, IPAddress Address, int Block, byte[] Digest);
}
