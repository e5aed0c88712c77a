using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

public sealed class SuperSeederTests
{
    private const int PieceLength = 1 << 20;

    private static SuperSeeder Create(int pieces, int seed = 1)
        => new(pieces, PieceLength, _ => PieceLength, new Random(seed));

    private static int[] Reveal(SuperSeeder seeder, int peer, int target)
    {
        int[] output = new int[Math.Max(target, 1)];
        return output[..seeder.Reveal(peer, target, output)];
    }

    /// <summary>The peer requests every block of a piece, in 16 KiB requests.</summary>
    private static bool RequestWhole(SuperSeeder seeder, int peer, int piece)
    {
        bool finished = false;
        for (int begin = 0; begin < PieceLength; begin += 16 * 1024)
        {
            finished = seeder.OnRequest(peer, piece, 16 * 1024);
        }

        return finished;
    }

    [Theory]
    [InlineData(1 << 20, 0, 2)]                  // at least two pieces
    [InlineData(1 << 20, 5_000_000, 3)]          // half a second at 5 MB/s
    [InlineData(128 << 10, 0, 2)]                // 256 KiB at least
    [InlineData(128 << 10, 4 << 20, 16)]         // 2 MiB
    [InlineData(16 << 10, 0, 16)]
    [InlineData(16 << 10, 1_000_000_000, 256)]   // at most MaxReveals
    public void UnchokedReveals_HalfASecondOfTheRate_WithinBounds(int pieceLength, double bytesPerSecond, int expected)
        => Assert.Equal(expected, new SuperSeeder(10, pieceLength, _ => pieceLength, new Random(1)).UnchokedReveals(bytesPerSecond));

    [Fact]
    public void Reveal_ManyPeers_EveryPieceShownOnceBeforeAnyTwice()
    {
        const int Pieces = 64;
        SuperSeeder seeder = Create(Pieces);
        for (int peer = 1; peer <= 4; peer++)
        {
            seeder.AddPeer(peer, null);
        }

        var shown = new List<int>();
        for (int peer = 1; peer <= 4; peer++)
        {
            shown.AddRange(Reveal(seeder, peer, 2));
        }

        // Each peer requests its pieces in full and is shown the next, round after round, until all went out once.
        while (seeder.ServedCount < Pieces)
        {
            for (int peer = 1; peer <= 4 && seeder.ServedCount < Pieces; peer++)
            {
                int[] outstanding = [.. shown.Skip(shown.Count - 8).Where(p => seeder.WasRevealed(peer, p))];
                foreach (int piece in outstanding)
                {
                    RequestWhole(seeder, peer, piece);
                    if (seeder.PeerHas(peer, piece))
                    {
                        shown.AddRange(Reveal(seeder, peer, 2));
                    }
                }
            }
        }

        int[] firstCopy = [.. shown.Take(Pieces)];
        Assert.Equal(Pieces, firstCopy.Distinct().Count());
    }

    [Fact]
    public void Reveal_ChokedTargetOne_UnchokedTargetTwo_NeverMoreOutstanding()
    {
        SuperSeeder seeder = Create(16);
        seeder.AddPeer(1, null);

        Assert.Single(Reveal(seeder, 1, 1));
        Assert.Empty(Reveal(seeder, 1, 1));
        Assert.Single(Reveal(seeder, 1, 2));
        Assert.Empty(Reveal(seeder, 1, 2));
        Assert.Equal(2, seeder.Outstanding(1));
    }

    [Fact]
    public void OnRequest_WholePiece_IsServedAndOnItsWay_UntilThePeerHasIt()
    {
        SuperSeeder seeder = Create(8);
        seeder.AddPeer(1, null);
        int piece = Reveal(seeder, 1, 1)[0];

        Assert.False(seeder.OnRequest(1, piece, PieceLength / 2));
        Assert.Equal(0, seeder.ServedCount);
        Assert.True(seeder.OnRequest(1, piece, PieceLength / 2));
        Assert.Equal(1, seeder.ServedCount);
        Assert.False(seeder.OnRequest(1, piece, 16 * 1024)); // already requested in full

        // On its way: still outstanding (the peer is shown nothing more) and still counted as spread.
        Assert.Equal(1, seeder.InFlight(1));
        Assert.Empty(Reveal(seeder, 1, 1));
        Assert.Equal(1, seeder.Spread(piece));

        Assert.True(seeder.PeerHas(1, piece));
        Assert.Equal(0, seeder.Outstanding(1));
        Assert.Equal(1, seeder.Spread(piece));
        Assert.Single(Reveal(seeder, 1, 1));
    }

    [Fact]
    public void OnDrained_PeerThatNeverAnnounces_IsTakenToHaveWhatWasSent()
    {
        SuperSeeder seeder = Create(8);
        seeder.AddPeer(1, null);
        int piece = Reveal(seeder, 1, 1)[0];
        Assert.False(seeder.OnDrained(1)); // nothing on its way yet
        RequestWhole(seeder, 1, piece);

        Assert.True(seeder.OnDrained(1));

        Assert.Equal(0, seeder.Outstanding(1));
        Assert.Equal(1, seeder.Spread(piece)); // sent: taken as had
        Assert.False(seeder.PeerHas(1, piece)); // a late have changes nothing
        Assert.Equal(1, seeder.Spread(piece));
        Assert.NotEqual(piece, Assert.Single(Reveal(seeder, 1, 1)));
    }

    [Fact]
    public void OnRequest_PieceNotShown_IsNotCounted()
    {
        SuperSeeder seeder = Create(8);
        seeder.AddPeer(1, null);
        int piece = Reveal(seeder, 1, 1)[0];
        int other = (piece + 1) % 8;

        Assert.False(seeder.WasRevealed(1, other));
        Assert.False(seeder.OnRequest(1, other, PieceLength));
        Assert.Equal(1, seeder.Outstanding(1));
    }

    [Fact]
    public void PeerHas_ShownPiece_FinishesIt_AndItCountsAsSpread()
    {
        SuperSeeder seeder = Create(8);
        seeder.AddPeer(1, null);
        int piece = Reveal(seeder, 1, 1)[0];
        Assert.Equal(1, seeder.Spread(piece));

        Assert.True(seeder.PeerHas(1, piece));
        Assert.Equal(0, seeder.Outstanding(1));
        Assert.Equal(1, seeder.Spread(piece));
        Assert.Equal(1, seeder.ServedCount);
    }

    [Fact]
    public void InFlightPiece_IsNotShownToAnother_WhileAPieceNobodyHasRemains()
    {
        // Two pieces: peer 1 is shown both and requests one in full; peer 2 must be shown the other.
        SuperSeeder seeder = Create(2);
        seeder.AddPeer(1, null);
        seeder.AddPeer(2, null);
        int[] first = Reveal(seeder, 1, 2);
        Assert.Equal(2, first.Length);
        Assert.True(RequestWhole(seeder, 1, first[0]));
        Assert.Equal(1, seeder.Spread(first[0])); // in flight to peer 1

        Assert.Equal([first[1]], Reveal(seeder, 2, 1));
    }

    [Fact]
    public void PieceShownToChokedPeer_NeverRequested_IsShownToAnother_BeforeAnyPieceTwice()
    {
        SuperSeeder seeder = Create(3);
        seeder.AddPeer(1, null);
        seeder.AddPeer(2, null);
        seeder.AddPeer(3, null);
        int idle = Reveal(seeder, 1, 1)[0];    // peer 1 stays choked and never asks
        int[] sent = Reveal(seeder, 2, 2);      // the other two pieces, sent to peer 2
        Assert.DoesNotContain(idle, sent);
        foreach (int piece in sent)
        {
            RequestWhole(seeder, 2, piece);
            seeder.PeerHas(2, piece);
        }

        Assert.Equal([idle], Reveal(seeder, 3, 1));
    }

    [Fact]
    public void AddPeer_WithPieces_NeverShownWhatItHas()
    {
        SuperSeeder seeder = Create(4);
        var has = new Bitfield(4);
        has.Set(0);
        has.Set(1);
        has.Set(3);
        seeder.AddPeer(1, has);

        Assert.Equal([2], Reveal(seeder, 1, 2));
    }

    [Fact]
    public void AfterTheFirstCopy_LeastSpreadPieceIsShown()
    {
        SuperSeeder seeder = Create(3);
        var two = new Bitfield(3);
        two.Set(0);
        two.Set(1);
        var one = new Bitfield(3);
        one.Set(0);
        seeder.AddPeer(1, two);      // 0 and 1
        seeder.AddPeer(2, one);      // 0
        var last = new Bitfield(3);
        last.Set(2);
        seeder.AddPeer(3, last);     // 2: every piece is out
        seeder.AddPeer(4, null);

        // Spread: piece 0 at two peers, 1 and 2 at one each; the newcomer is shown 1 and 2 first, one at a time.
        int a = Assert.Single(Reveal(seeder, 4, 2));
        seeder.PeerHas(4, a);
        int b = Assert.Single(Reveal(seeder, 4, 2));
        Assert.Equal([1, 2], new[] { a, b }.Order());
        seeder.PeerHas(4, b);
        Assert.Equal([0], Reveal(seeder, 4, 2));
    }

    [Fact]
    public void OnNotInterested_ReleasesShownPieces_SoOthersCanBeShown()
    {
        SuperSeeder seeder = Create(4);
        seeder.AddPeer(1, null);
        int skipped = Reveal(seeder, 1, 1)[0];

        seeder.OnNotInterested(1);

        Assert.Equal(0, seeder.Outstanding(1));
        Assert.Equal(0, seeder.Spread(skipped));
        int next = Assert.Single(Reveal(seeder, 1, 1));
        Assert.NotEqual(skipped, next);
    }

    [Fact]
    public void RemovePeer_ItsPiecesAndShownPiecesNoLongerCount()
    {
        SuperSeeder seeder = Create(4);
        var has = new Bitfield(4);
        has.Set(0);
        seeder.AddPeer(1, has);
        int shown = Reveal(seeder, 1, 1)[0];

        seeder.RemovePeer(1);

        Assert.False(seeder.Tracks(1));
        Assert.Equal(0, seeder.Spread(0));
        Assert.Equal(0, seeder.Spread(shown));
        Assert.Equal(0, seeder.PeerCount);
    }

    [Fact]
    public void PastTheFirstCopy_ASecondCopyIsShownOnlyToAPeerWithNothingOutstanding()
    {
        SuperSeeder seeder = Create(2);
        var both = new Bitfield(2);
        both.Set(0);
        both.Set(1);
        seeder.AddPeer(1, both);    // every piece is out
        seeder.AddPeer(2, null);

        Assert.Single(Reveal(seeder, 2, 2)); // one at a time
        Assert.Empty(Reveal(seeder, 2, 2));
    }

    [Fact]
    public void Reveal_PeerLacksNothingElse_ShowsNothing()
    {
        SuperSeeder seeder = Create(2);
        seeder.AddPeer(1, null);
        Assert.Equal(2, Reveal(seeder, 1, 4).Length);
        Assert.Empty(Reveal(seeder, 1, 4));
    }
}
