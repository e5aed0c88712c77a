using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Engine.Tests.Storage;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Storage;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

public sealed class LayerFetcherTests
{
    private const int PieceLength = 32 * 1024; // two blocks a piece

    private static readonly TestFile Big = TestFile.Random("big", (4 * PieceLength) + 100, 21); // five pieces: needs a layer
    private static readonly TestFile Small = TestFile.Random("small", 3000, 22);                  // one piece: its root is its layer

    /// <summary>The peers the fetcher sees: which are connected, and every request it sent.</summary>
    private sealed class FakePeers : IHashSources
    {
        public List<int> Connected { get; } = [1];

        public List<(int Peer, HashRequest Request)> Sent { get; } = [];

        public bool Refuse { get; set; }

        public int PickSource(TorrentFile file, int previous)
        {
            foreach (int peer in Connected)
            {
                if (peer != previous)
                {
                    return peer;
                }
            }

            return Connected.Count > 0 ? Connected[0] : -1;
        }

        public bool IsConnected(int peer) => Connected.Contains(peer);

        public bool TrySend(int peer, in HashRequest request)
        {
            if (Refuse)
            {
                return false;
            }

            Sent.Add((peer, request));
            return true;
        }
    }

    private sealed class Kit
    {
        public Kit(TorrentVersion version = TorrentVersion.V2, bool withLayers = false)
        {
            Full = TestTorrent.Build(version, PieceLength, [Big, Small]);
            Torrent = withLayers ? Full : TestTorrent.Build(version, PieceLength, [Big, Small], withLayers: false);
            var map = new PieceMap(Torrent.Metainfo);
            Picker = new PiecePicker(Torrent.Metainfo.PieceCount, map.GetRequestableLength, new Random(1));
            Fetcher = new LayerFetcher(Torrent.Metainfo, map, new PieceVerifier(map), Picker, Time, Peers);
        }

        public TestTorrent Full { get; }

        public TestTorrent Torrent { get; }

        public TorrentMetainfo Metainfo => Torrent.Metainfo;

        public TorrentFile BigFile => Metainfo.Files.First(f => f.Path.EndsWith("big", StringComparison.Ordinal));

        public FakeTimeProvider Time { get; } = new();

        public FakePeers Peers { get; } = new();

        public PiecePicker Picker { get; }

        public LayerFetcher Fetcher { get; }

        /// <summary>The true answer to <paramref name="request"/> at or above the piece layer, as an honest peer sends it.</summary>
        public HashReply Answer(HashRequest request)
        {
            using var dir = new TempDirectory();
            var map = new PieceMap(Full.Metainfo);
            using TorrentStorage storage = TorrentStorage.Open(map, dir.Path);
            var server = new MerkleHashServer(map);
            Assert.True(server.TryPlan(request, out int piece));
            Assert.True(piece < 0); // from the layers, no piece read
            return new HashReply(request, server.GetHashes(request, storage));
        }
    }

    [Fact]
    public void FindMissing_V2OnlyWithoutLayers_HoldsBackTheFilesPieces()
    {
        var kit = new Kit();

        kit.Fetcher.FindMissing();

        Assert.Equal(1, kit.Fetcher.MissingCount);
        TorrentFile big = kit.BigFile;
        for (int p = big.FirstPiece; p <= big.LastPiece; p++)
        {
            Assert.Equal(0, kit.Picker.GetPiecePriority(p));
        }

        TorrentFile small = kit.Metainfo.Files.First(f => f.Path.EndsWith("small", StringComparison.Ordinal));
        Assert.Equal(PiecePicker.DefaultPriority, kit.Picker.GetPiecePriority(small.FirstPiece));
    }

    [Fact]
    public void FindMissing_Hybrid_KeepsPrioritiesForSha1()
    {
        var kit = new Kit(TorrentVersion.Hybrid);

        kit.Fetcher.FindMissing();

        Assert.Equal(1, kit.Fetcher.MissingCount);
        Assert.Equal(PiecePicker.DefaultPriority, kit.Picker.GetPiecePriority(kit.BigFile.FirstPiece));
    }

    [Fact]
    public void FindMissing_WithLayers_NothingMissing()
    {
        var kit = new Kit(withLayers: true);

        kit.Fetcher.FindMissing();
        kit.Fetcher.RequestMissing();

        Assert.Equal(0, kit.Fetcher.MissingCount);
        Assert.Empty(kit.Peers.Sent);
    }

    [Fact]
    public void RequestMissing_AsksOnceUntilTheRequestTimesOut()
    {
        var kit = new Kit();
        kit.Fetcher.FindMissing();

        kit.Fetcher.RequestMissing();
        kit.Fetcher.RequestMissing();

        (int peer, HashRequest request) = Assert.Single(kit.Peers.Sent);
        Assert.Equal(1, peer);
        Assert.Equal(kit.BigFile.PiecesRoot, request.PiecesRoot);
        Assert.Equal(0, request.Index);

        kit.Time.Advance(LayerFetcher.LayerRequestTimeout);
        kit.Fetcher.RequestMissing();
        Assert.Equal(2, kit.Peers.Sent.Count);
    }

    [Fact]
    public void RequestMissing_AskedPeerLeft_AsksAnotherAtOnce()
    {
        var kit = new Kit();
        kit.Peers.Connected.Add(2);
        kit.Fetcher.FindMissing();
        kit.Fetcher.RequestMissing();
        Assert.Equal(1, kit.Peers.Sent[^1].Peer);

        kit.Peers.Connected.Remove(1);
        kit.Fetcher.RequestMissing();

        Assert.Equal(2, kit.Peers.Sent[^1].Peer);
    }

    [Fact]
    public void RequestMissing_PeerRefusesToBeAsked_RunStaysUnasked()
    {
        var kit = new Kit();
        kit.Fetcher.FindMissing();
        kit.Peers.Refuse = true;
        kit.Fetcher.RequestMissing();
        kit.Peers.Refuse = false;

        kit.Fetcher.RequestMissing();

        Assert.Single(kit.Peers.Sent);
    }

    [Fact]
    public void OnRejected_ByTheAskedPeer_AnotherIsAskedAtTheNextTick()
    {
        var kit = new Kit();
        kit.Peers.Connected.Add(2);
        kit.Fetcher.FindMissing();
        kit.Fetcher.RequestMissing();
        HashRequest request = kit.Peers.Sent[0].Request;

        kit.Fetcher.OnRejected(2, request); // not the asked peer: ignored
        kit.Fetcher.RequestMissing();
        Assert.Single(kit.Peers.Sent);

        kit.Fetcher.OnRejected(1, request);
        kit.Fetcher.RequestMissing();
        Assert.Equal((2, request), kit.Peers.Sent[^1]);
    }

    [Fact]
    public void OnHashes_ProvedLayer_InstalledAndPiecesWantedAgain()
    {
        var kit = new Kit();
        kit.Fetcher.FindMissing();
        kit.Fetcher.RequestMissing();
        var culprits = new List<LayerFetcher.BadBlock>();

        HashesOutcome outcome = kit.Fetcher.OnHashes(kit.Answer(kit.Peers.Sent[0].Request), culprits, out TorrentFile? installed);

        Assert.Equal(HashesOutcome.LayerInstalled, outcome);
        Assert.Same(kit.BigFile, installed);
        Assert.Equal(0, kit.Fetcher.MissingCount);
        Assert.True(kit.Metainfo.PieceLayers.ContainsKey(kit.BigFile.PiecesRoot!.Value));
        Assert.Equal(kit.Full.Metainfo.PieceLayers[kit.BigFile.PiecesRoot!.Value].ToArray(), kit.Metainfo.PieceLayers[kit.BigFile.PiecesRoot!.Value].ToArray());
        Assert.Equal(PiecePicker.DefaultPriority, kit.Picker.GetPiecePriority(kit.BigFile.FirstPiece));
        Assert.Empty(culprits);

        // A late duplicate of the same run is an answer nobody needs now.
        Assert.Equal(HashesOutcome.Ignored, kit.Fetcher.OnHashes(kit.Answer(kit.Peers.Sent[0].Request), culprits, out _));
    }

    [Fact]
    public void OnHashes_LayerThatDoesNotProve_IsALieAndNothingIsKept()
    {
        var kit = new Kit();
        kit.Fetcher.FindMissing();
        kit.Fetcher.RequestMissing();
        HashReply honest = kit.Answer(kit.Peers.Sent[0].Request);
        Sha256Hash[] hashes = [.. honest.Hashes!];
        hashes[1] = new Sha256Hash(SHA256.HashData("lie"u8));

        HashesOutcome outcome = kit.Fetcher.OnHashes(honest with { Hashes = hashes }, [], out TorrentFile? installed);

        Assert.Equal(HashesOutcome.BadLayerHashes, outcome);
        Assert.Null(installed);
        Assert.Equal(1, kit.Fetcher.MissingCount);
        Assert.False(kit.Metainfo.PieceLayers.ContainsKey(kit.BigFile.PiecesRoot!.Value));
    }

    [Fact]
    public void OnHashes_NothingAsked_Ignored()
    {
        var kit = new Kit(withLayers: true);
        TorrentFile big = kit.BigFile;
        var request = new HashRequest(big.PiecesRoot!.Value, 1, 0, 8, 2);

        Assert.Equal(HashesOutcome.Ignored, kit.Fetcher.OnHashes(kit.Answer(request), [], out _));
    }

    /// <summary>Piece 1 failed with its two blocks from peers 7 and 8; peer 8's block was the bad one.</summary>
    private static (Kit Kit, int Piece) FailedPiece()
    {
        var kit = new Kit(withLayers: true);
        int piece = kit.BigFile.FirstPiece + 1;
        byte[] received = kit.Torrent.Piece(piece);
        received[PieceLength - 1] ^= 0xFF; // in block 1
        Sha256Hash[] computed = [new(SHA256.HashData(received.AsSpan(0, 16 * 1024))), new(SHA256.HashData(received.AsSpan(16 * 1024)))];
        kit.Fetcher.RequestBlockHashes(piece, [7, 8], computed);
        return (kit, piece);
    }

    [Fact]
    public void OnHashes_ProvedBlockHashes_NameTheSenderOfTheBadBlock()
    {
        (Kit kit, int piece) = FailedPiece();
        (int asked, HashRequest request) = Assert.Single(kit.Peers.Sent);
        Assert.Equal(1, asked);
        Assert.Equal(1, kit.Fetcher.BlockProofCount);
        var culprits = new List<LayerFetcher.BadBlock>();

        HashesOutcome outcome = kit.Fetcher.OnHashes(new HashReply(request, kit.Torrent.ExpectedBlockHashes(piece)), culprits, out _);

        Assert.Equal(HashesOutcome.BlocksProved, outcome);
        Assert.Equal(new LayerFetcher.BadBlock(8, piece, 1), Assert.Single(culprits));
        Assert.Equal(0, kit.Fetcher.BlockProofCount);
    }

    [Fact]
    public void OnHashes_BlockHashesThatDoNotProve_IsALie()
    {
        (Kit kit, int piece) = FailedPiece();
        Sha256Hash[] lie = kit.Torrent.ExpectedBlockHashes(piece);
        lie[0] = new Sha256Hash(SHA256.HashData("lie"u8));

        HashesOutcome outcome = kit.Fetcher.OnHashes(new HashReply(kit.Peers.Sent[0].Request, lie), [], out _);

        Assert.Equal(HashesOutcome.BadBlockHashes, outcome);
        Assert.Equal(1, kit.Fetcher.BlockProofCount); // still awaited: an honest reply was never had
    }

    [Fact]
    public void OnPeerGone_AskedPeer_StopsWaitingForItsBlockHashes()
    {
        (Kit kit, _) = FailedPiece();

        kit.Fetcher.OnPeerGone(2);
        Assert.Equal(1, kit.Fetcher.BlockProofCount);
        kit.Fetcher.OnPeerGone(1);

        Assert.Equal(0, kit.Fetcher.BlockProofCount);
    }

    [Fact]
    public void RequestBlockHashes_SamePieceTwice_AskedOnce()
    {
        (Kit kit, int piece) = FailedPiece();

        kit.Fetcher.RequestBlockHashes(piece, [7, 8], [default, default]);

        Assert.Single(kit.Peers.Sent);
    }
}
