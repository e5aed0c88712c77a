using System.Net;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

public sealed class AllowedFastSetTests
{
    private static readonly byte[] InfoHash = [.. Enumerable.Repeat((byte)0xAA, 20)];

    [Fact]
    public void Compute_Bep6Example_GivesTheSpecifiedPieces()
    {
        // BEP 6's worked example: 1313 pieces, info-hash of twenty 0xAA bytes, peer 80.4.4.200.
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188], AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), InfoHash, 1313, 7));
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188, 353, 508], AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), InfoHash, 1313, 9));
    }

    [Fact]
    public void Compute_SameSlash24OrMappedAddress_GivesTheSameSet()
    {
        int[] set = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), InfoHash, 1313);
        Assert.Equal(set, AllowedFastSet.Compute(IPAddress.Parse("80.4.4.7"), InfoHash, 1313));
        Assert.Equal(set, AllowedFastSet.Compute(IPAddress.Parse("::ffff:80.4.4.200"), InfoHash, 1313));
        Assert.NotEqual(set, AllowedFastSet.Compute(IPAddress.Parse("80.4.5.200"), InfoHash, 1313));
    }

    [Fact]
    public void Compute_FewPiecesOrIPv6_StaysWithinBounds()
    {
        Assert.Equal([0, 1, 2], AllowedFastSet.Compute(IPAddress.Parse("10.0.0.1"), InfoHash, 3).Order());
        Assert.Empty(AllowedFastSet.Compute(IPAddress.IPv6Loopback, InfoHash, 1313));
        Assert.Empty(AllowedFastSet.Compute(IPAddress.Loopback, InfoHash, 0));
    }
}
