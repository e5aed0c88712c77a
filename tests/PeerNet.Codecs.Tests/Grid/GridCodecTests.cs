using PeerNet.Grid;

namespace PeerNet.Codecs.Tests.Grid;

public sealed class GridCodecTests
{
    private static byte[] Key(byte seed) => [.. Enumerable.Range(0, 32).Select(i => (byte)(i * 7 + seed))];

    private static byte[] Data(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Theory]
    [InlineData(3, 10, 1024, 5000)]
    [InlineData(1, 1, 64, 0)]
    [InlineData(2, 3, 100, 100)]
    [InlineData(5, 7, 1000, 1)]
    [InlineData(16, 32, 4096, 70_001)]
    public void RoundTrip_FromEveryKSubsetTried(int k, int n, int segmentSize, int length)
    {
        byte[] plaintext = Data(length, k * 31 + n);
        (GridCapability capability, byte[][] shares) = GridFile.Encode(Key(1), k, n, segmentSize, plaintext);
        var random = new Random(5);
        for (int trial = 0; trial < 8; trial++)
        {
            int[] chosen = [.. Enumerable.Range(0, n).OrderBy(_ => random.Next()).Take(k)];
            var subset = chosen.ToDictionary(i => i, i => shares[i]);
            Assert.Equal(plaintext, GridFile.Decode(capability, subset));
        }

        Assert.All(shares, s => Assert.True(GridFile.CheckShare(s, out _, out string? error), error));
    }

    [Fact]
    public void Shares_HoldNoPlaintext_AndTheKeyIsNotInTheVerifyCapability()
    {
        byte[] plaintext = [.. Enumerable.Repeat((byte)'A', 4000)];
        (GridCapability capability, byte[][] shares) = GridFile.Encode(Key(2), 2, 4, 1000, plaintext);
        byte[] run = [.. Enumerable.Repeat((byte)'A', 64)];
        Assert.All(shares, s => Assert.Equal(-1, s.AsSpan().IndexOf(run)));
        string verify = capability.ToVerify().ToString();
        Assert.DoesNotContain(capability.ToString().Split(':')[2], verify, StringComparison.Ordinal);
        Assert.False(capability.ToVerify().CanRead);
        Assert.Equal(capability.StorageIndex.ToArray(), GridCapability.Parse(verify).StorageIndex.ToArray());
    }

    [Fact]
    public void CorruptBlock_IsDetected_AndTheShareNamed_ThenOthersAreUsed()
    {
        byte[] plaintext = Data(10_000, 3);
        (GridCapability capability, byte[][] shares) = GridFile.Encode(Key(3), 3, 6, 2048, plaintext);
        shares[1][^5] ^= 0x40; // a byte of share 1's last block
        var bad = new List<int>();
        Assert.Equal(plaintext, GridFile.Decode(capability, Enumerable.Range(0, 6).ToDictionary(i => i, i => shares[i]), bad));
        Assert.Equal([1], bad);
        Assert.False(GridFile.CheckShare(shares[1], out _, out string? error));
        Assert.Contains("does not match", error, StringComparison.Ordinal);

        GridCorruptShareException e = Assert.Throws<GridCorruptShareException>(() => GridFile.Decode(capability, new Dictionary<int, byte[]> { [0] = shares[0], [1] = shares[1], [2] = shares[2] }));
        Assert.Equal(1, e.ShareNumber);
    }

    [Fact]
    public void ForgedShare_ConsistentWithItself_IsRefusedByTheCapability()
    {
        (GridCapability capability, byte[][] shares) = GridFile.Encode(Key(4), 2, 3, 512, Data(3000, 4));
        (_, byte[][] other) = GridFile.Encode(Key(5), 2, 3, 512, Data(3000, 5));
        Assert.True(GridFile.CheckShare(other[2], out _, out _)); // a provider cannot tell
        var bad = new List<int>();
        Assert.Throws<GridCorruptShareException>(() => GridFile.Decode(capability, new Dictionary<int, byte[]> { [0] = shares[0], [2] = other[2] }, bad));
        Assert.Equal([2], bad);
    }

    [Fact]
    public void ConvergentKeys_DependOnContentParametersAndSecret()
    {
        byte[] hash = new byte[32];
        Assert.Equal(GridHashes.ConvergentKey(hash, 3, 10, 1 << 20, []), GridHashes.ConvergentKey(hash, 3, 10, 1 << 20, []));
        Assert.NotEqual(GridHashes.ConvergentKey(hash, 3, 10, 1 << 20, []), GridHashes.ConvergentKey(hash, 3, 10, 1 << 20, [1]));
        Assert.NotEqual(GridHashes.ConvergentKey(hash, 3, 10, 1 << 20, []), GridHashes.ConvergentKey(hash, 2, 10, 1 << 20, []));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(13)]
    public void MerkleProofs_VerifyOnlyTheirLeaf(int count)
    {
        byte[] leaves = [.. Enumerable.Range(0, count).SelectMany(i => GridHashes.Leaf([(byte)i]))];
        var tree = new GridMerkle(leaves, count);
        for (int i = 0; i < count; i++)
        {
            byte[] proof = tree.Proof(i);
            Assert.Equal(GridMerkle.Depth(count) * 32, proof.Length);
            Assert.True(GridMerkle.Verify(leaves.AsSpan(i * 32, 32), i, count, proof, tree.Root));
            Assert.False(GridMerkle.Verify(GridHashes.Leaf([0xFF]), i, count, proof, tree.Root));
            Assert.False(GridMerkle.Verify(leaves.AsSpan(i * 32, 32), i, count, [.. proof, .. new byte[32]], tree.Root));
            Assert.False(GridMerkle.Verify(leaves.AsSpan(i * 32, 32), count, count, proof, tree.Root));
            if (count > 1)
            {
                Assert.False(GridMerkle.Verify(leaves.AsSpan(i * 32, 32), i ^ 1, count, proof, tree.Root));
            }
        }
    }

    [Fact]
    public void Capability_RoundTrips()
    {
        (GridCapability capability, _) = GridFile.Encode(Key(6), 3, 10, 1024, Data(5000, 6));
        string text = capability.ToString();
        Assert.StartsWith("URI:PEERNET-CHK:", text, StringComparison.Ordinal);
        Assert.EndsWith(":3:10:5000", text, StringComparison.Ordinal);
        Assert.Equal(capability, GridCapability.Parse(text));
        Assert.True(GridCapability.Parse(text).CanRead);
        GridCapability verify = GridCapability.Parse(capability.ToVerify().ToString());
        Assert.StartsWith("URI:PEERNET-CHK-VERIFIER:", verify.ToString(), StringComparison.Ordinal);
        Assert.Equal(capability.Root.ToArray(), verify.Root.ToArray());
    }

    [Theory]
    [InlineData("")]
    [InlineData("URI:CHK:aaaa:bbbb:3:10:5")]
    [InlineData("URI:PEERNET-CHK:")]
    [InlineData("URI:PEERNET-CHK:x:y:3:10:5")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:3:10:05")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:3:10:-5")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:0:10:5")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:11:10:5")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:3:257:5")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:3:10:99999999999999")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:3:10:5:6")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:3:10:+5")]
    [InlineData("URI:PEERNET-CHK:KEY:ROOT:3:10: 5")]
    [InlineData("URI:PEERNET-CHK:UPPER:ROOT:3:10:5")]
    public void Capability_HostileText_IsRefusedWithAReason(string template)
    {
        string key = new('a', 52);
        string text = template.Replace("UPPER", new string('A', 52), StringComparison.Ordinal).Replace("KEY", key, StringComparison.Ordinal).Replace("ROOT", key, StringComparison.Ordinal);
        Assert.False(GridCapability.TryParse(text, out _, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Throws<FormatException>(() => GridCapability.Parse(text));
        Assert.False(GridCapability.TryParse(new string('x', 10_000), out _, out _));
    }

    [Fact]
    public void ShareHeader_HostileInput_IsRefused_AndRandomBytesNeverThrow()
    {
        (_, byte[][] shares) = GridFile.Encode(Key(7), 3, 10, 1024, Data(5000, 7));
        byte[] header = shares[4].AsSpan(0, GridShareHeader.LengthFor(10)).ToArray();
        Assert.True(GridShareHeader.TryParse(header, exact: true, out GridShareHeader? parsed, out _));
        Assert.Equal(4, parsed!.ShareNumber);
        Assert.True(parsed.RootIsProven());
        Assert.False(GridShareHeader.TryParse(header.AsSpan(0, header.Length - 1), exact: true, out _, out _));
        byte[] wrongNumber = [.. header];
        wrongNumber[9] = 10;
        Assert.False(GridShareHeader.TryParse(wrongNumber, exact: true, out _, out string? error));
        Assert.Contains("share 10", error, StringComparison.Ordinal);
        byte[] otherNumber = [.. header];
        otherNumber[9] = 5;
        Assert.True(GridShareHeader.TryParse(otherNumber, exact: true, out GridShareHeader? moved, out _));
        Assert.False(moved!.RootIsProven());

        var random = new Random(8);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] input = [.. header];
            for (int flips = random.Next(1, 4); flips > 0; flips--)
            {
                input[random.Next(input.Length)] = (byte)random.Next(256);
            }

            if (GridShareHeader.TryParse(input, exact: false, out GridShareHeader? h, out _))
            {
                _ = h!.RootIsProven();
                _ = new GridShareLayout(h.Extension).TotalLength;
            }

            _ = GridFile.CheckShare(input, out _, out _);
        }
    }
}
