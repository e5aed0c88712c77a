using PeerNet.Bencode;

namespace PeerNet.Metainfo;

internal sealed partial class MetainfoParser
{
    /// <summary>
    /// Reads <c>piece layers</c> (outside the info dictionary, so absent from magnet-fetched metadata) and
    /// proves each layer hashes up to its file's pieces root. A file missing its layer is allowed: its
    /// hashes can be fetched from peers (BEP 52 hash request).
    /// </summary>
    private Dictionary<Sha256Hash, ReadOnlyMemory<byte>> ReadPieceLayers(List<TorrentFile> files, long pieceLength)
    {
        var result = new Dictionary<Sha256Hash, ReadOnlyMemory<byte>>();
        BencodeNode layers = root["piece layers"u8];
        if (!layers.Exists)
        {
            return result;
        }

        RequireKind(layers, BencodeKind.Dictionary, "piece layers");
        var byRoot = new Dictionary<Sha256Hash, BencodeNode>();
        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in layers.Entries)
        {
            if (entry.Key.StringSpan.Length != Sha256Hash.Length)
            {
                Fail(MetainfoErrorCode.InvalidValue, entry.Key, "a 'piece layers' key is not a 32-byte pieces root");
            }

            if (byRoot.Count >= limits.MaxFiles)
            {
                Fail(MetainfoErrorCode.LimitExceeded, entry.Key, $"more than {limits.MaxFiles} piece layers");
            }

            // A repeated root (a .torrent is read leniently) keeps its first layer, as libtorrent's map does.
            byRoot.TryAdd(new Sha256Hash(entry.Key.StringSpan), entry.Value);
        }

        foreach (TorrentFile file in files)
        {
            if (file.PiecesRoot is not { } pieceRoot || file.Length <= pieceLength || !byRoot.TryGetValue(pieceRoot, out BencodeNode layer))
            {
                continue;
            }

            // Checked for every file, even when the root's layer is already verified: files that share a root
            // must also share a length, or the one layer would have the wrong number of hashes for one of them.
            RequireKind(layer, BencodeKind.String, "piece layers entry");
            long pieces = PiecesFor(file.Length, pieceLength);
            if (layer.StringSpan.Length != pieces * Sha256Hash.Length)
            {
                Fail(MetainfoErrorCode.Inconsistent, layer, $"piece layer of '{file.Path}' is {layer.StringSpan.Length} bytes, expected {pieces * Sha256Hash.Length}");
            }

            if (result.ContainsKey(pieceRoot))
            {
                continue; // identical files: the layer is verified once
            }

            var hashes = new Sha256Hash[pieces];
            for (int i = 0; i < hashes.Length; i++)
            {
                hashes[i] = new Sha256Hash(layer.StringSpan.Slice(i * Sha256Hash.Length, Sha256Hash.Length));
            }

            if (MerkleTree.RootFromPieceLayer(hashes, file.Length, pieceLength) != pieceRoot)
            {
                Fail(MetainfoErrorCode.Inconsistent, layer, $"piece layer of '{file.Path}' does not hash to its pieces root");
            }

            result[pieceRoot] = layer.StringMemory;
        }

        return result;
    }
}
