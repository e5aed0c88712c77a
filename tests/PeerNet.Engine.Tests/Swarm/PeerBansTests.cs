using System.Net;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

public sealed class PeerBansTests
{
    private const int Block = 16;

    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");
    private static readonly IPAddress C = IPAddress.Parse("10.0.0.3");

    private static byte[] Piece(int blocks, byte fill = 7) => Enumerable.Repeat(fill, blocks * Block).ToArray();

    [Fact]
    public void Convict_AfterFailure_BansOnlyTheSenderWhoseBlockDiffers()
    {
        var bans = new PeerBans(Block);
        byte[] good = Piece(3);
        byte[] bad = (byte[])good.Clone();
        bad[Block + 5] ^= 0xFF; // block 1, sent by peer 2

        bans.RecordFailure(4, [1, 2, 3], [A, B, C], bad);
        var convicted = new List<PeerBans.Suspect>();
        bans.Convict(4, good, convicted);

        PeerBans.Suspect only = Assert.Single(convicted);
        Assert.Equal((2, 1), (only.Peer, only.Block));
        Assert.True(bans.IsBanned(B));
        Assert.False(bans.IsBanned(A));
        Assert.Equal(1, bans.Count);
        Assert.Equal(0, bans.SuspectedPieces);
    }

    [Fact]
    public void Convict_WithoutFailure_ConvictsNobody()
    {
        var bans = new PeerBans(Block);
        var convicted = new List<PeerBans.Suspect>();

        bans.Convict(0, Piece(2), convicted);

        Assert.Empty(convicted);
        Assert.Equal(0, bans.Count);
    }

    [Fact]
    public void Convict_SenderAddressUnknown_ConvictedButNoAddressBanned()
    {
        var bans = new PeerBans(Block);
        byte[] good = Piece(2);
        byte[] bad = (byte[])good.Clone();
        bad[0] ^= 1;

        bans.RecordFailure(0, [9, 1], [IPAddress.None, A], bad);
        var convicted = new List<PeerBans.Suspect>();
        bans.Convict(0, good, convicted);

        Assert.Equal(9, Assert.Single(convicted).Peer);
        Assert.Equal(0, bans.Count);
    }

    [Fact]
    public void Convict_TwoFailures_EveryRecordedSenderIsJudged()
    {
        var bans = new PeerBans(Block);
        byte[] good = Piece(2);
        byte[] firstBad = (byte[])good.Clone();
        firstBad[0] ^= 1; // peer 1's block 0
        byte[] secondBad = (byte[])good.Clone();
        secondBad[Block] ^= 1; // peer 3's block 1

        bans.RecordFailure(5, [1, 2], [A, B], firstBad);
        bans.RecordFailure(5, [2, 3], [B, C], secondBad);
        var convicted = new List<PeerBans.Suspect>();
        bans.Convict(5, good, convicted);

        Assert.Equal([1, 3], convicted.Select(s => s.Peer).Order());
        Assert.True(bans.IsBanned(A) && bans.IsBanned(C) && !bans.IsBanned(B));
    }

    [Fact]
    public void RecordFailure_ShortLastBlock_IsHashedToThePieceEnd()
    {
        var bans = new PeerBans(Block);
        byte[] good = Enumerable.Repeat((byte)3, Block + 5).ToArray();
        byte[] bad = (byte[])good.Clone();
        bad[^1] ^= 1;

        bans.RecordFailure(0, [1, 2], [A, B], bad);
        var convicted = new List<PeerBans.Suspect>();
        bans.Convict(0, good, convicted);

        Assert.Equal(2, Assert.Single(convicted).Peer);
    }

    [Fact]
    public void Ban_NoneAddress_IsIgnored()
    {
        var bans = new PeerBans(Block);

        bans.Ban(IPAddress.None);
        bans.Ban(A);
        bans.Ban(A);

        Assert.Equal(1, bans.Count);
        Assert.Equal([A], bans.Addresses);
    }
}
