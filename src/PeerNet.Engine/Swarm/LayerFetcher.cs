using System.Numerics;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Storage;

namespace PeerNet.Swarm;

/// <summary>The peers a <see cref="LayerFetcher"/> asks for BEP 52 hashes: the torrent's peer set, seen through what it needs.</summary>
internal interface IHashSources
{
    /// <summary>A connected peer that speaks v2 and has announced pieces of <paramref name="file"/>, preferring one other than <paramref name="previous"/>; -1 if none.</summary>
    int PickSource(TorrentFile file, int previous);

    /// <summary>Whether peer <paramref name="peer"/> is still connected.</summary>
    bool IsConnected(int peer);

    /// <summary>Sends a hash request we will accept exactly one reply to; false if the peer has too many of ours (or this one) outstanding.</summary>
    bool TrySend(int peer, in HashRequest request);
}

/// <summary>What a <c>hashes</c> reply to one of our requests came to.</summary>
internal enum HashesOutcome
{
    /// <summary>An answer to a request no longer needed (another peer was faster).</summary>
    Ignored,

    /// <summary>One run of a layer, proved to its file's root; more are awaited.</summary>
    RunProved,

    /// <summary>The last run of a layer: the layer is part of the torrent now.</summary>
    LayerInstalled,

    /// <summary>Piece-layer hashes that do not prove to the file's pieces root: the sender lied.</summary>
    BadLayerHashes,

    /// <summary>Block hashes that do not prove to the piece's trusted node: the sender lied.</summary>
    BadBlockHashes,

    /// <summary>Block hashes, proved: the senders of the blocks that differ are named.</summary>
    BlocksProved,
}

/// <summary>
/// BEP 52 hashes fetched from peers: the piece layers a torrent lacks, and the block hashes that pinpoint a failed
/// piece's bad blocks. A torrent started from a magnet link has the info dictionary only, without the piece layers of
/// files longer than one piece; until a file's layer is proved against its pieces root, a v2-only torrent cannot verify
/// (so does not request) that file's pieces, and their priorities are held here. Layers are asked for in runs of up to
/// <see cref="LayerRunLength"/> hashes, each with the uncle hashes that prove it to the root, from peers that have
/// pieces of the file. Every reply is proved before anything is kept. The loop owns it.
/// </summary>
internal sealed class LayerFetcher
{
    /// <summary>Hashes asked for in one request (BEP 52: "Length SHOULD NOT be greater than 512").</summary>
    public const int LayerRunLength = 512;

    /// <summary>Failed pieces awaiting block hashes at once; a failure beyond them is left to smart-ban.</summary>
    public const int MaxBlockProofs = 64;

    /// <summary>How long a layer request may go unanswered before another peer is asked.</summary>
    public static readonly TimeSpan LayerRequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<Sha256Hash, LayerFetch> _missing = [];
    private readonly Dictionary<(Sha256Hash Root, int FirstLeaf), BlockProof> _blockProofs = [];
    private readonly TorrentMetainfo _metainfo;
    private readonly PieceMap _map;
    private readonly PieceVerifier _verifier;
    private readonly PiecePicker _picker;
    private readonly TimeProvider _time;
    private readonly IHashSources _peers;

    public LayerFetcher(TorrentMetainfo metainfo, PieceMap map, PieceVerifier verifier, PiecePicker picker, TimeProvider time, IHashSources peers)
    {
        _metainfo = metainfo;
        _map = map;
        _verifier = verifier;
        _picker = picker;
        _time = time;
        _peers = peers;
    }

    /// <summary>Files whose piece layers are still being fetched.</summary>
    public int MissingCount => _missing.Count;

    /// <summary>Failed pieces awaiting their block hashes.</summary>
    public int BlockProofCount => _blockProofs.Count;

    /// <summary>Notes the files whose layers are missing; a v2-only torrent holds back their pieces until they arrive.</summary>
    public void FindMissing()
    {
        if (_metainfo.InfoHashes.V2 is null)
        {
            return;
        }

        IReadOnlyList<TorrentFile> files = _metainfo.Files;
        for (int i = 0; i < files.Count; i++)
        {
            TorrentFile file = files[i];
            if (file.PiecesRoot is not { } root || file.Length <= _metainfo.PieceLength || _metainfo.PieceLayers.ContainsKey(root) || _missing.ContainsKey(root))
            {
                continue;
            }

            var fetch = new LayerFetch(file, _metainfo.PieceLength);
            _missing[root] = fetch;
            if (_metainfo.Version == TorrentVersion.V2)
            {
                for (int p = file.FirstPiece; p <= file.LastPiece; p++)
                {
                    fetch.HeldPriorities[p - file.FirstPiece] = _picker.GetPiecePriority(p);
                    _picker.SetPiecePriority(p, 0);
                }
            }
        }
    }

    /// <summary>Asks peers for every run of a missing layer that is not already asked for (or whose request timed out).</summary>
    public void RequestMissing()
    {
        if (_missing.Count == 0)
        {
            return;
        }

        long now = _time.GetTimestamp();
        foreach (LayerFetch fetch in _missing.Values)
        {
            for (int run = 0; run < fetch.Runs.Length; run++)
            {
                ref LayerRun state = ref fetch.Runs[run];
                if (state.Done || (state.Peer >= 0 && _peers.IsConnected(state.Peer) && _time.GetElapsedTime(state.AskedAt, now) < LayerRequestTimeout))
                {
                    continue;
                }

                int peer = _peers.PickSource(fetch.File, state.Peer);
                if (peer < 0 || !_peers.TrySend(peer, fetch.Request(run)))
                {
                    continue; // (a peer that still owes us this run, or too many others, is not asked again yet)
                }

                state.Peer = peer;
                state.AskedAt = now;
            }
        }
    }

    /// <summary>
    /// A <c>hashes</c> reply to a request we sent a peer (the reader matched it to the request
    /// exactly and checked its size): to one of our layer runs or block-hash requests, kept only once proved. For
    /// <see cref="HashesOutcome.LayerInstalled"/>, <paramref name="installed"/> is the file; for
    /// <see cref="HashesOutcome.BlocksProved"/>, the senders of bad blocks are added to <paramref name="culprits"/>.
    /// </summary>
    public HashesOutcome OnHashes(HashReply reply, List<BadBlock> culprits, out TorrentFile? installed)
    {
        installed = null;
        HashRequest request = reply.Request;
        Sha256Hash[] hashes = reply.Hashes!;
        int run = -1;
        bool forLayer = _missing.TryGetValue(request.PiecesRoot, out LayerFetch? fetch) && fetch.TryFindRun(request, out run) && !fetch.Runs[run].Done;
        bool forBlocks = !forLayer && _blockProofs.TryGetValue((request.PiecesRoot, request.Index), out BlockProof? proof) && proof.Request == request;
        if (!forLayer && !forBlocks)
        {
            return HashesOutcome.Ignored;
        }

        Sha256Hash[] scratch = hashes.AsSpan(0, request.Length).ToArray(); // Fold overwrites its run
        Sha256Hash top = MerkleProof.Fold(request, scratch, hashes.AsSpan(request.Length), out int layer, out long index);
        if (forBlocks)
        {
            return OnBlockHashes(request, hashes.AsSpan(0, request.Length), top, layer, culprits);
        }

        if (top != request.PiecesRoot || layer != fetch!.Layers || index != 0)
        {
            return HashesOutcome.BadLayerHashes;
        }

        fetch.Runs[run].Done = true;
        hashes.AsSpan(0, request.Length).CopyTo(fetch.Hashes.AsSpan(request.Index));
        if (!fetch.AllDone)
        {
            return HashesOutcome.RunProved;
        }

        Install(fetch);
        installed = fetch.File;
        return HashesOutcome.LayerInstalled;
    }

    /// <summary>
    /// After a v2 piece fails with blocks from several peers (<paramref name="sources"/>, one per block): asks a peer for
    /// the piece's block hashes, proved up to the piece's trusted node, to learn which blocks were bad at once.
    /// </summary>
    public void RequestBlockHashes(int piece, int[] sources, Sha256Hash[] computed)
    {
        int fileIndex = _map.GetV2File(piece);
        if (fileIndex < 0 || !_verifier.TryGetV2Target(piece, out Sha256Hash target, out int width, out bool known) || !known || width < 2)
        {
            return;
        }

        TorrentFile file = _metainfo.Files[fileIndex];
        int firstLeaf = (piece - file.FirstPiece) * width;
        var request = new HashRequest(file.PiecesRoot!.Value, 0, firstLeaf, width, BitOperations.Log2((uint)width) - 1);
        if (_blockProofs.Count >= MaxBlockProofs || _blockProofs.ContainsKey((request.PiecesRoot, firstLeaf)))
        {
            return;
        }

        // Asked of one peer, the reply is taken from that peer alone (PeerConnection matches it to this very request).
        int source = _peers.PickSource(file, -1);
        if (source >= 0 && _peers.TrySend(source, request))
        {
            _blockProofs.Add((request.PiecesRoot, firstLeaf), new BlockProof(piece, sources, computed, target, request, source));
        }
    }

    /// <summary>A peer refused one of our hash requests (the reader matched the reject to it): ask someone else.</summary>
    public void OnRejected(int peer, HashRequest request)
    {
        if (_blockProofs.TryGetValue((request.PiecesRoot, request.Index), out BlockProof? proof) && proof.Asked == peer)
        {
            _blockProofs.Remove((request.PiecesRoot, request.Index));
        }

        if (_missing.TryGetValue(request.PiecesRoot, out LayerFetch? fetch) && fetch.TryFindRun(request, out int run) && fetch.Runs[run].Peer == peer)
        {
            fetch.Runs[run].AskedAt = 0; // ask someone else at the next tick
        }
    }

    /// <summary>A peer left: the block hashes it owed us will never come, so those failed pieces stop waiting for them.</summary>
    public void OnPeerGone(int peer)
    {
        foreach (((Sha256Hash, int) key, BlockProof proof) in _blockProofs)
        {
            if (proof.Asked == peer)
            {
                _blockProofs.Remove(key);
            }
        }
    }

    private HashesOutcome OnBlockHashes(in HashRequest request, ReadOnlySpan<Sha256Hash> leaves, Sha256Hash top, int layer, List<BadBlock> culprits)
    {
        BlockProof proof = _blockProofs[(request.PiecesRoot, request.Index)];
        if (top != proof.Target || layer != BitOperations.Log2((uint)request.Length))
        {
            return HashesOutcome.BadBlockHashes;
        }

        _blockProofs.Remove((request.PiecesRoot, request.Index));
        foreach (int bad in PieceVerifier.FindBadBlocks(proof.Computed, leaves[..proof.Computed.Length]))
        {
            if (bad < proof.Sources.Length)
            {
                culprits.Add(new BadBlock(proof.Sources[bad], proof.Piece, bad));
            }
        }

        return HashesOutcome.BlocksProved;
    }

    /// <summary>A whole layer is proved: make it part of the torrent, so pieces can be verified (and served) from it.</summary>
    private void Install(LayerFetch fetch)
    {
        TorrentFile file = fetch.File;
        int pieces = file.LastPiece - file.FirstPiece + 1;
        byte[] layer = new byte[pieces * Sha256Hash.Length];
        for (int i = 0; i < pieces; i++)
        {
            fetch.Hashes[i].CopyTo(layer.AsSpan(i * Sha256Hash.Length));
        }

        // Readers (verifier, hash server) see either the old dictionary or the new one, never a half-updated one.
        var layers = new Dictionary<Sha256Hash, ReadOnlyMemory<byte>>(_metainfo.PieceLayers) { [file.PiecesRoot!.Value] = layer };
        _metainfo.PieceLayers = layers;
        _missing.Remove(file.PiecesRoot!.Value);
        if (_metainfo.Version == TorrentVersion.V2)
        {
            for (int p = file.FirstPiece; p <= file.LastPiece; p++)
            {
                _picker.SetPiecePriority(p, fetch.HeldPriorities[p - file.FirstPiece]);
            }
        }
    }

    /// <summary>Block <paramref name="Block"/> of <paramref name="Piece"/>, sent by <paramref name="Peer"/>, differs from its proved hash.</summary>
    internal readonly record struct BadBlock(int Peer, int Piece, int Block);

    /// <summary>
    /// A failed piece awaiting its block hashes: who sent each block, what each block hashed to, and the request sent
    /// for them and to whom (<paramref name="Asked"/>, a peer id).
    /// </summary>
    private sealed record BlockProof(int Piece, int[] Sources, Sha256Hash[] Computed, Sha256Hash Target, HashRequest Request, int Asked);

    private struct LayerRun
    {
        public bool Done;
        public int Peer;
        public long AskedAt;
    }

    /// <summary>One file's layer being fetched: its runs, the hashes proved so far, and the priorities held back.</summary>
    private sealed class LayerFetch
    {
        public LayerFetch(TorrentFile file, long pieceLength)
        {
            File = file;
            PieceLevel = BitOperations.Log2((ulong)(pieceLength / MerkleTree.BlockSize));
            Layers = MerkleProof.LayerCount(file.Length);
            int width = 1 << (Layers - PieceLevel);
            RunLength = Math.Min(LayerRunLength, width);
            Hashes = new Sha256Hash[width];
            Runs = new LayerRun[width / RunLength];
            Array.Fill(Runs, new LayerRun { Peer = -1 });
            HeldPriorities = new int[file.LastPiece - file.FirstPiece + 1];
        }

        public TorrentFile File { get; }

        public int PieceLevel { get; }

        /// <summary>Layers above the leaves: the root's layer.</summary>
        public int Layers { get; }

        public int RunLength { get; }

        public Sha256Hash[] Hashes { get; }

        public LayerRun[] Runs { get; }

        public int[] HeldPriorities { get; }

        public bool AllDone
        {
            get
            {
                foreach (LayerRun run in Runs)
                {
                    if (!run.Done)
                    {
                        return false;
                    }
                }

                return true;
            }
        }

        /// <summary>Run <paramref name="run"/>, with every uncle needed to reach the root.</summary>
        public HashRequest Request(int run) => new(File.PiecesRoot!.Value, PieceLevel, run * RunLength, RunLength, Layers - PieceLevel - 1);

        public bool TryFindRun(in HashRequest request, out int run)
        {
            run = request.Index / RunLength;
            return request.BaseLayer == PieceLevel && request.Length == RunLength && request.Index % RunLength == 0
                && (uint)run < (uint)Runs.Length && request.ProofLayers == Layers - PieceLevel - 1;
        }
    }
}
