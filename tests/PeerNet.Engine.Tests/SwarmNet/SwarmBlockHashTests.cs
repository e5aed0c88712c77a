using System.Buffers;
using System.Security.Cryptography;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>A v2 piece assembled from two peers fails: BEP 52 block hashes name the peer that sent the bad block.</summary>
public sealed class SwarmBlockHashTests
{
    private const int Block = 16 * 1024;

    [Fact]
    public async Task V2PieceFromTwoPeers_FailsItsHash_BlockHashesBanExactlyTheCorruptSender()
    {
        await using var harness = new SwarmHarness();
        // Nine whole pieces of four blocks: no piece can come from one peer alone.
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V2, [9 * 64 * 1024], pieceLength: 64 * 1024);
        byte[] data = await File.ReadAllBytesAsync(Directory.GetFiles(content, "*", SearchOption.AllDirectories).Single(), TestContext.Current.CancellationToken);
        SwarmSession leecher = await harness.StartNodeAsync();
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, []);

        // Two hand-driven seeders: one serves even blocks (corrupted), the other odd blocks (honest), each
        // rejecting the rest, so every piece is assembled from both and fails its hash.
        await using RawPeer corrupt = await RawPeer.ConnectAsync(harness.Network, leecher, torrent);
        await using RawPeer honest = await RawPeer.ConnectAsync(harness.Network, leecher, torrent);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task corruptLoop = ServeAsync(corrupt, torrent, data, parity: 0, corrupt: true, stop.Token);
        Task honestLoop = ServeAsync(honest, torrent, data, parity: 1, corrupt: false, stop.Token);

        // Either serving loop failing (an assertion on a frame the node sent, say) fails the wait at once.
        await Poll.UntilAsync(() => download.Banned.Count > 0, "a peer banned", SwarmHarness.Timeout, describe: download.DescribeState, watched: [corruptLoop, honestLoop]);

        await stop.CancelAsync();
        Assert.True(download.BannedByBlockHashes > 0, $"{download.HashFailures} hash failures, none banned by block hashes");
        Assert.Single(download.Banned); // the corrupt one: the honest peer's blocks matched their proved hashes
        Assert.Equal(0, download.GetStatus().PiecesVerified);
        await Task.WhenAll(corruptLoop, honestLoop).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken); // and what they saw up to the stop
        Assert.False(File.Exists(Path.Combine(folder, torrent.Files[0].Path)) && new FileInfo(Path.Combine(folder, torrent.Files[0].Path)).Length > 0, "no unverified byte reaches the disk");
    }

    /// <summary>
    /// Announces every piece, unchokes, and answers requests of its parity and block-hash requests until stopped or
    /// closed by the node. Anything else that goes wrong (a malformed frame from the node fails RawPeer's read)
    /// faults the returned task, which the test watches.
    /// </summary>
    private static async Task ServeAsync(RawPeer peer, TorrentMetainfo torrent, byte[] data, int parity, bool corrupt, CancellationToken stop)
    {
        peer.Send(PeerMessageWriter.HaveAll.ToArray());
        peer.Send(PeerMessageWriter.Unchoke.ToArray());
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (await peer.ReceiveAsync(SwarmHarness.Timeout).WaitAsync(stop) is not { } m)
                {
                    return; // closed by the node (the corrupt peer is banned)
                }

                if (m.Id == PeerMessageId.Request)
                {
                    var block = new BlockRequest(m.Piece, m.Begin, m.Length);
                    if (m.Begin / Block % 2 != parity)
                    {
                        byte[] reject = new byte[PeerMessageWriter.RequestLength];
                        PeerMessageWriter.WriteReject(reject, block);
                        peer.Send(reject);
                        continue;
                    }

                    byte[] message = new byte[PeerMessageWriter.PieceHeaderLength + m.Length];
                    int header = PeerMessageWriter.WritePieceHeader(message, m.Piece, m.Begin, m.Length);
                    data.AsSpan((int)((m.Piece * torrent.PieceLength) + m.Begin), m.Length).CopyTo(message.AsSpan(header));
                    if (corrupt)
                    {
                        message[header] ^= 0xFF;
                    }

                    peer.Send(message);
                }
                else if (m.Id == PeerMessageId.HashRequest)
                {
                    // The true leaf hashes of the requested blocks (past the end of the file: zero leaves).
                    HashRequest r = m.HashRequest;
                    var leaves = new Sha256Hash[r.Length];
                    for (int i = 0; i < r.Length; i++)
                    {
                        long start = (long)(r.Index + i) * Block;
                        leaves[i] = start < data.Length ? new Sha256Hash(SHA256.HashData(data.AsSpan((int)start, (int)Math.Min(Block, data.Length - start)))) : default;
                    }

                    var output = new ArrayBufferWriter<byte>();
                    PeerMessageWriter.WriteHashes(output, r, leaves);
                    peer.Send(output.WrittenSpan.ToArray());
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped by the test.
        }
        catch (IOException)
        {
            // Reset by the node (the corrupt peer is banned).
        }
    }
}
