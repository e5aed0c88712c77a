using System.Numerics;
using PeerNet.Metainfo;
using PeerNet.PeerWire;

namespace PeerNet.Swarm;

/// <summary>
/// BEP 52 piece layers fetched from peers. A torrent started from a magnet link has the info dictionary only,
/// without the piece layers of files longer than one piece; until a file's layer is proved against its pieces
/// root, a v2-only torrent cannot verify (so does not request) that file's pieces. Layers are asked for in runs of
/// up to 512 hashes, each with the uncle hashes that prove it to the root, from peers that have pieces of the file.
/// </summary>
internal sealed partial class TorrentSwarm
{
    /// <summary>Hashes asked for in one request (BEP 52: "Length SHOULD NOT be greater than 512").</summary>
    public const int LayerRunLength = 512;

    /// <summary>How long a layer request may go unanswered before another peer is asked.</summary>
    private static readonly TimeSpan LayerRequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Dictionary<Sha256Hash, LayerFetch> _missingLayers = [];

    /// <summary>Files whose piece layers are still being fetched.</summary>
    public int MissingLayers => _missingLayers.Count;

    /// <summary>Notes the files whose layers are missing; a v2-only torrent holds back their pieces until they arrive.</summary>
    private void FindMissingLayers()
    {
        if (Metainfo.InfoHashes.V2 is null)
        {
            return;
        }

        IReadOnlyList<TorrentFile> files = Metainfo.Files;
        for (int i = 0; i < files.Count; i++)
        {
            TorrentFile file = files[i];
            if (file.PiecesRoot is not { } root || file.Length <= Metainfo.PieceLength || Metainfo.PieceLayers.ContainsKey(root) || _missingLayers.ContainsKey(root))
            {
                continue;
            }

            var fetch = new LayerFetch(file, Metainfo.PieceLength);
            _missingLayers[root] = fetch;
            if (Metainfo.Version == TorrentVersion.V2)
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
    private void RequestMissingLayers()
    {
        if (_missingLayers.Count == 0)
        {
            return;
        }

        long now = Time.GetTimestamp();
        foreach (LayerFetch fetch in _missingLayers.Values)
        {
            for (int run = 0; run < fetch.Runs.Length; run++)
            {
                ref LayerRun state = ref fetch.Runs[run];
                if (state.Done || (state.Peer >= 0 && _peers.ContainsKey(state.Peer) && Time.GetElapsedTime(state.AskedAt, now) < LayerRequestTimeout))
                {
                    continue;
                }

                PeerConnection? peer = PickLayerSource(fetch.File, state.Peer);
                if (peer is null || !SendHashRequest(peer, fetch.Request(run)))
                {
                    continue; // (a peer that still owes us this run, or too many others, is not asked again yet)
                }

                state.Peer = peer.Id;
                state.AskedAt = now;
            }
        }
    }

    /// <summary>A peer that has announced pieces of <paramref name="file"/> and speaks v2, preferring one not tried last.</summary>
    private PeerConnection? PickLayerSource(TorrentFile file, int previous)
    {
        PeerConnection? fallback = null;
        foreach (PeerConnection peer in _peers.Values)
        {
            bool speaksV2 = Metainfo.Version == TorrentVersion.V2 || peer.RemoteHandshake.SupportsV2;
            bool hasFile = peer.IsSeed || (peer.Pieces is { } pieces && pieces.FirstSet(file.FirstPiece) is int first && first >= 0 && first <= file.LastPiece);
            if (!speaksV2 || !hasFile)
            {
                continue;
            }

            if (peer.Id != previous)
            {
                return peer;
            }

            fallback = peer;
        }

        return fallback;
    }

    /// <summary>
    /// A <c>hashes</c> reply to a request we sent this peer (the reader matched it to the request exactly and checked
    /// its size): to one of our layer runs or block-hash requests, kept only once proved. A reply whose proof does not
    /// reach the node we trust is a lie, and its sender is banned.
    /// </summary>
    private void OnHashesReceived(PeerConnection peer, HashReply reply)
    {
        HashRequest request = reply.Request;
        Sha256Hash[] hashes = reply.Hashes!;
        int run = -1;
        bool forLayer = _missingLayers.TryGetValue(request.PiecesRoot, out LayerFetch? fetch) && fetch.TryFindRun(request, out run) && !fetch.Runs[run].Done;
        bool forBlocks = !forLayer && _blockProofs.TryGetValue((request.PiecesRoot, request.Index), out BlockProof? proof) && proof.Request == request;
        if (!forLayer && !forBlocks)
        {
            return; // an answer to a request we no longer need (another peer was faster)
        }

        Sha256Hash[] scratch = hashes.AsSpan(0, request.Length).ToArray(); // Fold overwrites its run
        Sha256Hash top = MerkleProof.Fold(request, scratch, hashes.AsSpan(request.Length), out int layer, out long index);
        if (forBlocks)
        {
            OnBlockHashes(peer, request, hashes.AsSpan(0, request.Length), top, layer);
            return;
        }

        if (top != request.PiecesRoot || layer != fetch!.Layers || index != 0)
        {
            BanForHashes(peer, "piece-layer");
            return;
        }

        fetch.Runs[run].Done = true;
        hashes.AsSpan(0, request.Length).CopyTo(fetch.Hashes.AsSpan(request.Index));
        if (fetch.Runs.All(r => r.Done))
        {
            InstallLayer(fetch);
        }
    }

    /// <summary>BEP 52 hashes are proved, never trusted: a peer whose hashes are not in the file's tree is banned.</summary>
    private void BanForHashes(PeerConnection peer, string what)
    {
        Ban(peer, $"sent {what} hashes that do not prove to the torrent's trusted hashes");
    }

    /// <summary>
    /// After a v2 piece fails with blocks from several peers: ask a peer for the piece's block hashes, proved up
    /// to the piece's trusted node, to learn which blocks were bad (and ban exactly their senders) at once.
    /// </summary>
    private void RequestBlockHashes(int piece, int[] sources, Sha256Hash[] computed)
    {
        int fileIndex = Storage.Map.GetV2File(piece);
        if (fileIndex < 0 || !_verifier.TryGetV2Target(piece, out Sha256Hash target, out int width, out bool known) || !known || width < 2)
        {
            return;
        }

        TorrentFile file = Metainfo.Files[fileIndex];
        int firstLeaf = (piece - file.FirstPiece) * width;
        var request = new HashRequest(file.PiecesRoot!.Value, 0, firstLeaf, width, BitOperations.Log2((uint)width) - 1);
        if (_blockProofs.Count >= MaxBlockProofs || _blockProofs.ContainsKey((request.PiecesRoot, firstLeaf)))
        {
            return;
        }

        // Asked of one peer, the reply is taken from that peer alone (PeerConnection matches it to this very request).
        PeerConnection? source = PickLayerSource(file, -1);
        if (source is not null && SendHashRequest(source, request))
        {
            _blockProofs.Add((request.PiecesRoot, firstLeaf), new BlockProof(piece, sources, computed, target, request, source.Id));
        }
    }

    /// <summary>Failed pieces awaiting block hashes at once; a failure beyond them is left to smart-ban.</summary>
    private const int MaxBlockProofs = 64;

    private void OnBlockHashes(PeerConnection peer, in HashRequest request, ReadOnlySpan<Sha256Hash> leaves, Sha256Hash top, int layer)
    {
        BlockProof proof = _blockProofs[(request.PiecesRoot, request.Index)];
        if (top != proof.Target || layer != BitOperations.Log2((uint)request.Length))
        {
            BanForHashes(peer, "block");
            return;
        }

        _blockProofs.Remove((request.PiecesRoot, request.Index));
        foreach (int bad in PeerNet.Storage.PieceVerifier.FindBadBlocks(proof.Computed, leaves[..proof.Computed.Length]))
        {
            if (bad >= proof.Sources.Length || !_peers.TryGetValue(proof.Sources[bad], out PeerConnection? culprit))
            {
                continue;
            }

            BannedByBlockHashes++;
            Ban(culprit, $"sent block {bad} of piece {proof.Piece}, which failed its BEP 52 block hash");
        }
    }

    /// <summary>Peers banned because a proved block hash showed exactly which block they corrupted.</summary>
    public int BannedByBlockHashes { get; private set; }

    private readonly Dictionary<(Sha256Hash Root, int FirstLeaf), BlockProof> _blockProofs = [];

    /// <summary>
    /// A failed piece awaiting its block hashes: who sent each block, what each block hashed to, and the request sent
    /// for them and to whom (<paramref name="Asked"/>, a peer id).
    /// </summary>
    private sealed record BlockProof(int Piece, int[] Sources, Sha256Hash[] Computed, Sha256Hash Target, HashRequest Request, int Asked);

    /// <summary>A peer refused one of our hash requests (the reader matched the reject to it): ask someone else.</summary>
    private void OnHashRejected(PeerConnection peer, HashRequest request)
    {
        if (_blockProofs.TryGetValue((request.PiecesRoot, request.Index), out BlockProof? proof) && proof.Asked == peer.Id)
        {
            _blockProofs.Remove((request.PiecesRoot, request.Index));
        }

        if (_missingLayers.TryGetValue(request.PiecesRoot, out LayerFetch? fetch) && fetch.TryFindRun(request, out int run) && fetch.Runs[run].Peer == peer.Id)
        {
            fetch.Runs[run].AskedAt = 0; // ask someone else at the next tick
        }
    }

    /// <summary>A peer left: the block hashes it owed us will never come, so those failed pieces stop waiting for them.</summary>
    private void ForgetBlockProofsAskedOf(PeerConnection peer)
    {
        foreach (((Sha256Hash, int) key, BlockProof proof) in _blockProofs)
        {
            if (proof.Asked == peer.Id)
            {
                _blockProofs.Remove(key);
            }
        }
    }

    /// <summary>A whole layer is proved: make it part of the torrent, so pieces can be verified (and served) from it.</summary>
    private void InstallLayer(LayerFetch fetch)
    {
        TorrentFile file = fetch.File;
        int pieces = file.LastPiece - file.FirstPiece + 1;
        byte[] layer = new byte[pieces * Sha256Hash.Length];
        for (int i = 0; i < pieces; i++)
        {
            fetch.Hashes[i].CopyTo(layer.AsSpan(i * Sha256Hash.Length));
        }

        // Readers (verifier, hash server) see either the old dictionary or the new one, never a half-updated one.
        var layers = new Dictionary<Sha256Hash, ReadOnlyMemory<byte>>(Metainfo.PieceLayers) { [file.PiecesRoot!.Value] = layer };
        Metainfo.PieceLayers = layers;
        _missingLayers.Remove(file.PiecesRoot!.Value);
        SwarmLog.LayerInstalled(Log, _logName, DisplayText.Sanitize(file.Path), pieces);
        if (Metainfo.Version == TorrentVersion.V2)
        {
            for (int p = file.FirstPiece; p <= file.LastPiece; p++)
            {
                _picker.SetPiecePriority(p, fetch.HeldPriorities[p - file.FirstPiece]);
            }

            foreach (PeerConnection peer in _peers.Values)
            {
                UpdateInterest(peer);
            }
        }
    }

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
