using System.Buffers;
using System.Numerics;
using PeerNet.Metainfo;
using PeerNet.PeerWire;

namespace PeerNet.Storage;

/// <summary>
/// Answers BEP 52 hash requests for a v2 or hybrid torrent. Nodes at or above a file's piece layer come from the
/// torrent's piece layers (trusted: proved against each file's pieces root at load), through a per-file tree built
/// on first use. Nodes below it are inside one piece and are computed from that piece's stored data, so a request
/// for block hashes costs one piece read; requests whose run spans several pieces below the piece layer are
/// refused (libtorrent asks for one piece's blocks at a time).
/// </summary>
internal sealed class MerkleHashServer
{
    private readonly PieceMap _map;
    private readonly Dictionary<Sha256Hash, int> _files = [];
    private readonly Dictionary<int, Sha256Hash[][]> _upperTrees = [];
    private readonly int _pieceLevel;

    /// <summary>Indexes the v2 files of <paramref name="map"/>'s torrent by pieces root.</summary>
    public MerkleHashServer(PieceMap map)
    {
        _map = map;
        _pieceLevel = BitOperations.Log2((uint)map.BlocksPerPiece);
        IReadOnlyList<TorrentFile> files = map.Metainfo.Files;
        for (int i = 0; i < files.Count; i++)
        {
            if (files[i].PiecesRoot is { } root && files[i].Length > 0)
            {
                _files.TryAdd(root, i);
            }
        }
    }

    /// <summary>
    /// Checks <paramref name="request"/> and names the piece whose data it needs (<paramref name="piece"/>, or -1
    /// when the torrent's piece layers answer it alone). False when it is malformed, names no file of ours, or
    /// asks for nodes we cannot compute from one piece.
    /// </summary>
    public bool TryPlan(in HashRequest request, out int piece)
    {
        piece = -1;
        if (!_files.TryGetValue(request.PiecesRoot, out int fileIndex))
        {
            return false;
        }

        TorrentFile file = _map.Metainfo.Files[fileIndex];
        if (!MerkleProof.IsValid(request, file.Length))
        {
            return false;
        }

        int layers = MerkleProof.LayerCount(file.Length);
        bool hasLayer = file.Length > _map.PieceLength;
        if (hasLayer && !_map.Metainfo.PieceLayers.ContainsKey(request.PiecesRoot))
        {
            return false; // a torrent loaded without this file's layer (from a magnet, before peers sent it)
        }

        // Everything below the piece layer (the whole tree, for a file of one piece) lies inside one piece.
        int top = hasLayer ? _pieceLevel : layers;
        if (request.BaseLayer >= top)
        {
            return true;
        }

        long firstBlock = (long)request.Index << request.BaseLayer;
        long lastBlock = (((long)request.Index + request.Length) << request.BaseLayer) - 1;
        long blocksPerPiece = 1L << top;
        if (firstBlock / blocksPerPiece != lastBlock / blocksPerPiece)
        {
            return false;
        }

        piece = file.FirstPiece + (int)(firstBlock / blocksPerPiece);
        return true;
    }

    /// <summary>
    /// The hashes of a reply to <paramref name="request"/> (the run, then its uncles), for a request
    /// <see cref="TryPlan"/> accepted; reads the planned piece from <paramref name="storage"/> if one is needed.
    /// Throws <see cref="StorageException"/> when the piece cannot be read.
    /// </summary>
    public Sha256Hash[] GetHashes(in HashRequest request, TorrentStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        if (!TryPlan(request, out int piece))
        {
            throw new ArgumentException("The request was not planned.", nameof(request));
        }

        int fileIndex = _files[request.PiecesRoot];
        TorrentFile file = _map.Metainfo.Files[fileIndex];
        bool hasLayer = file.Length > _map.PieceLength;
        int top = hasLayer ? _pieceLevel : MerkleProof.LayerCount(file.Length);
        Sha256Hash[][]? lower = piece >= 0 ? BuildPieceTree(piece, top, storage) : null;
        Sha256Hash[][]? upper = hasLayer ? GetUpperTree(fileIndex, file) : null;
        long lowerBase = piece >= 0 ? (long)(piece - file.FirstPiece) << top : 0;

        Sha256Hash Node(int layer, long index) => layer < top || upper is null
            ? lower![layer][index - (lowerBase >> layer)]
            : upper[layer - top][index];

        int uncles = MerkleProof.UncleCount(request.Length, request.ProofLayers);
        var hashes = new Sha256Hash[request.Length + uncles];
        for (int i = 0; i < request.Length; i++)
        {
            hashes[i] = Node(request.BaseLayer, request.Index + i);
        }

        for (int u = 0; u < uncles; u++)
        {
            (int layer, long index) = MerkleProof.Uncle(request, u);
            hashes[request.Length + u] = Node(layer, index);
        }

        return hashes;
    }

    /// <summary>The tree over one piece's blocks (zero leaves past the file's end), layer 0 up to <paramref name="top"/>.</summary>
    private Sha256Hash[][] BuildPieceTree(int piece, int top, TorrentStorage storage)
    {
        int leaves = 1 << top;
        int length = _map.GetV2DataLength(piece);
        var tree = new Sha256Hash[top + 1][];
        tree[0] = new Sha256Hash[leaves];
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            storage.Read(_map.GetPieceOffset(piece), buffer.AsSpan(0, length));
            for (int block = 0; block * MerkleTree.BlockSize < length; block++)
            {
                int begin = block * MerkleTree.BlockSize;
                tree[0][block] = Sha256Hash.Compute(buffer.AsSpan(begin, Math.Min(MerkleTree.BlockSize, length - begin)));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        FillLayersAbove(tree);
        return tree;
    }

    /// <summary>The file's tree from its piece layer (padded with pad hashes) up to its root, built once.</summary>
    private Sha256Hash[][] GetUpperTree(int fileIndex, TorrentFile file)
    {
        lock (_upperTrees)
        {
            if (_upperTrees.TryGetValue(fileIndex, out Sha256Hash[][]? cached))
            {
                return cached;
            }

            ReadOnlySpan<byte> layer = _map.Metainfo.PieceLayers[file.PiecesRoot!.Value].Span;
            int width = 1 << (MerkleProof.LayerCount(file.Length) - _pieceLevel);
            int height = BitOperations.Log2((uint)width);
            var tree = new Sha256Hash[height + 1][];
            tree[0] = new Sha256Hash[width];
            int count = layer.Length / Sha256Hash.Length;
            for (int i = 0; i < width; i++)
            {
                tree[0][i] = i < count ? new Sha256Hash(layer.Slice(i * Sha256Hash.Length, Sha256Hash.Length)) : MerkleTree.PadHash(_pieceLevel);
            }

            FillLayersAbove(tree);
            _upperTrees[fileIndex] = tree;
            return tree;
        }
    }

    /// <summary>Computes <paramref name="tree"/>[1..] from its bottom layer (a power-of-two count of nodes), pair by pair.</summary>
    private static void FillLayersAbove(Sha256Hash[][] tree)
    {
        for (int layer = 1; layer < tree.Length; layer++)
        {
            Sha256Hash[] below = tree[layer - 1];
            var nodes = new Sha256Hash[below.Length / 2];
            for (int i = 0; i < nodes.Length; i++)
            {
                nodes[i] = Sha256Hash.Combine(below[2 * i], below[(2 * i) + 1]);
            }

            tree[layer] = nodes;
        }
    }
}
