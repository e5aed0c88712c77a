using System.Security.Cryptography;
using PeerNet.Codecs.Tests.Metainfo;

namespace PeerNet.Codecs.Tests.SelfTests;

/// <summary>The fixtures' own hashing, checked by hand against BEP 52 so the parser is not checked against itself.</summary>
public sealed class TorrentBuilderTests
{
    private static readonly byte[] Zero = new byte[32];

    [Fact]
    public void MerkleRoot_OneBlock_IsTheBlockHash()
    {
        byte[] data = TestHashes.Bytes(100);
        Assert.Equal(SHA256.HashData(data), TestHashes.MerkleRoot(data, 16384, out byte[] layer));
        Assert.Empty(layer);
    }

    [Fact]
    public void MerkleRoot_ThreeBlocks_PadsWithZeroLeavesToFour()
    {
        byte[] data = TestHashes.Bytes((2 * 16384) + 5);
        byte[] h0 = SHA256.HashData(data.AsSpan(0, 16384));
        byte[] h1 = SHA256.HashData(data.AsSpan(16384, 16384));
        byte[] h2 = SHA256.HashData(data.AsSpan(32768, 5));
        byte[] left = SHA256.HashData([.. h0, .. h1]);
        byte[] right = SHA256.HashData([.. h2, .. Zero]);

        byte[] root = TestHashes.MerkleRoot(data, 16384, out byte[] layer);

        Assert.Equal(SHA256.HashData([.. left, .. right]), root);
        Assert.Equal([.. h0, .. h1, .. h2], layer);
    }

    [Fact]
    public void MerkleRoot_TwoBlockPieces_LayerIsOneLevelUpAndCutToThePieces()
    {
        // 5 blocks at 32 KiB pieces: 8 leaves, 3 pieces; the 4th piece node (all zero leaves) is not in the layer.
        byte[] data = TestHashes.Bytes((4 * 16384) + 1);
        byte[][] leaves = [.. Enumerable.Range(0, 5).Select(i => SHA256.HashData(data.AsSpan(i * 16384, Math.Min(16384, data.Length - (i * 16384)))))];
        byte[] p0 = SHA256.HashData([.. leaves[0], .. leaves[1]]);
        byte[] p1 = SHA256.HashData([.. leaves[2], .. leaves[3]]);
        byte[] p2 = SHA256.HashData([.. leaves[4], .. Zero]);
        byte[] p3 = SHA256.HashData([.. Zero, .. Zero]);

        byte[] root = TestHashes.MerkleRoot(data, 32768, out byte[] layer);

        Assert.Equal([.. p0, .. p1, .. p2], layer);
        Assert.Equal(SHA256.HashData([.. SHA256.HashData([.. p0, .. p1]), .. SHA256.HashData([.. p2, .. p3])]), root);
    }

    [Fact]
    public void Encode_SortsKeysAsRawBytes_UnlessKeepOrder()
    {
        var d = new BDict().With("b", BValue.Int(1)).With("a", BValue.Int(2)).With("B", BValue.Int(3));
        Assert.Equal("d1:Bi3e1:ai2e1:bi1ee"u8.ToArray(), BValue.Encode(d));
        d.KeepOrder = true;
        Assert.Equal("d1:bi1e1:ai2e1:Bi3ee"u8.ToArray(), BValue.Encode(d));
    }

    [Fact]
    public void Encode_RecordsOffsets()
    {
        BInt value = BValue.Int(7);
        var d = new BDict().With("key", BValue.List(value));
        BValue.Encode(d);
        Assert.Equal(0, d.Offset);
        Assert.Equal("d3:keyl".Length, value.Offset);
    }
}
