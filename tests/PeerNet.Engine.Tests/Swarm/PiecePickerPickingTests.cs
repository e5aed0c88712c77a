using PeerNet.PeerWire;
using PeerNet.Swarm;
using static PeerNet.Engine.Tests.Swarm.PickerKit;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>Which blocks a pick chooses.</summary>
public sealed class PiecePickerPickingTests
{
    [Fact]
    public void Pick_RarestPieceFirst()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 1);
        picker.AddPeer(1, All(10));
        picker.AddPeer(2, Bits(10, 0, 1, 2, 3, 4, 5, 6, 8, 9));
        picker.AddPeer(3, Bits(10, 0, 1, 2, 3, 4, 5, 6, 7, 8));

        // 7 and 9 have availability 2, the others 3: the first two picks are those, in some order.
        Assert.Equal([7, 9], picker.Pick(1, 2).Pieces().Order());
    }

    [Fact]
    public void Pick_PeerOnlyHasCommonPieces_TakesItsRarest()
    {
        PiecePicker picker = Uniform(6, blocksPerPiece: 1);
        picker.AddPeer(1, Bits(6, 0));
        picker.AddPeer(2, Bits(6, 0, 1, 2));
        picker.AddPeer(3, Bits(6, 1, 2));
        picker.AddPeer(4, Bits(6, 2));

        Assert.Equal([0, 1], picker.Pick(2, 2).Pieces().Order());
    }

    [Fact]
    public void Pick_EqualAvailability_TieBrokenBySeed()
    {
        var firsts = new HashSet<int>();
        for (int seed = 0; seed < 40; seed++)
        {
            PiecePicker picker = Uniform(50, blocksPerPiece: 1, seed: seed);
            picker.AddPeer(1, All(50));
            firsts.Add(picker.Pick(1, 1)[0].PieceIndex);
        }

        // A fixed order would give one piece; a random tie-break spreads over many.
        Assert.True(firsts.Count > 20, $"only {firsts.Count} distinct first picks");
    }

    [Fact]
    public void Pick_SameSeed_SamePicks()
    {
        BlockRequest[] Run()
        {
            PiecePicker picker = Uniform(100, seed: 42);
            picker.AddPeer(1, Random(100, 0.5, new Random(7)));
            picker.AddPeer(2, All(100));
            return [.. picker.Pick(1, 10), .. picker.Pick(2, 10)];
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Pick_HigherPriorityBeforeRarer()
    {
        PiecePicker picker = Uniform(4, blocksPerPiece: 1);
        picker.AddPeer(1, All(4));
        picker.AddPeer(2, Bits(4, 3));
        picker.AddPeer(3, Bits(4, 3));
        picker.SetPiecePriority(3, 7);
        picker.SetPiecePriority(0, 1);

        // 3 is the most common piece but the most urgent; 0 the least urgent.
        Assert.Equal(3, picker.Pick(1, 1)[0].PieceIndex);
        Assert.Equal([1, 2], picker.Pick(1, 2).Pieces().Order());
        Assert.Equal(0, picker.Pick(1, 1)[0].PieceIndex);
    }

    [Fact]
    public void Pick_Sequential_LowestIndexFirst()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 2);
        picker.Sequential = true;
        picker.AddPeer(1, All(10));
        picker.AddPeer(2, Bits(10, 8, 9, 4));
        picker.MarkVerified(0);

        BlockRequest[] picked = picker.Pick(1, 5);
        Assert.Equal([(1, 0), (1, Block), (2, 0), (2, Block), (3, 0)], picked.Select(r => (r.PieceIndex, r.Begin)));
        Assert.Equal([4, 8], picker.Pick(2, 4).Pieces());
    }

    [Fact]
    public void Pick_Sequential_HonorsPriority()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 1);
        picker.Sequential = true;
        picker.AddPeer(1, All(10));
        picker.SetPiecePriority(6, 7);
        picker.SetPiecePriority(1, 0);

        Assert.Equal([6, 0, 2, 3], picker.Pick(1, 4).Select(r => r.PieceIndex));
    }

    [Fact]
    public void Pick_ContinuesStartedPieceBeforeNewOnes()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 8);
        picker.AddPeer(1, All(10));
        BlockRequest[] first = picker.Pick(1, 3);
        BlockRequest[] second = picker.Pick(1, 5);

        Assert.Single(first.Pieces());
        Assert.Equal(first.Pieces(), second.Pieces());
        Assert.Equal(Enumerable.Range(0, 8).Select(b => b * Block), first.Concat(second).Select(r => r.Begin));
        Assert.Equal(1, picker.PartialCount);
    }

    [Fact]
    public void Pick_MediumPeerJoinsAnotherPeersPiece_FastPeerStartsItsOwn()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 8);
        picker.AddPeer(1, All(10));
        picker.AddPeer(2, All(10));
        picker.AddPeer(3, All(10));
        picker.SetPeerSpeed(3, PeerSpeed.Fast);
        int piece = picker.Pick(1, 2)[0].PieceIndex;

        Assert.Equal([piece], picker.Pick(2, 2).Pieces());
        BlockRequest[] fast = picker.Pick(3, 8);
        Assert.Single(fast.Pieces());
        Assert.NotEqual(piece, fast[0].PieceIndex);
    }

    [Fact]
    public void Pick_SlowPeerAvoidsFastPeersPiece_UntilNothingElseIsLeft()
    {
        PiecePicker picker = Uniform(2, blocksPerPiece: 8);
        picker.AddPeer(1, All(2));
        picker.AddPeer(2, All(2));
        picker.SetPeerSpeed(1, PeerSpeed.Fast);
        picker.SetPeerSpeed(2, PeerSpeed.Slow);
        int fastPiece = picker.Pick(1, 4)[0].PieceIndex;

        BlockRequest[] slow = picker.Pick(2, 12);

        // The slow peer takes the other piece whole, then the free half of the fast peer's as a last resort.
        Assert.Equal([1 - fastPiece, fastPiece], slow.Pieces());
        Assert.Equal(8, slow.Count(r => r.PieceIndex != fastPiece));
    }

    [Fact]
    public void Pick_PieceOfRemovedPeer_IsAdoptedFirst()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 8);
        picker.AddPeer(1, All(10));
        picker.AddPeer(2, All(10));
        picker.SetPeerSpeed(2, PeerSpeed.Fast);
        BlockRequest[] before = picker.Pick(1, 4);
        picker.OnBlockReceived(1, before[0].PieceIndex, 0);
        picker.RemovePeer(1);

        BlockRequest[] after = picker.Pick(2, 7);

        Assert.Equal(before.Pieces(), after.Pieces());
        Assert.Equal(Enumerable.Range(1, 7).Select(b => b * Block), after.Select(r => r.Begin));
    }

    [Fact]
    public void Pick_ShortPieces_LastBlockLengths()
    {
        // v2-like: piece 1 is a file's short last piece, piece 2 the torrent's.
        int[] lengths = [4 * Block, Block + 100, 50];
        var picker = new PiecePicker(3, p => lengths[p], new Random(1));
        picker.AddPeer(1, All(3));

        BlockRequest[] picked = picker.Pick(1, 10);

        Assert.Equal(7, picked.Length);
        Assert.Contains(new BlockRequest(1, Block, 100), picked);
        Assert.Contains(new BlockRequest(2, 0, 50), picked);
        Assert.Equal(4, picked.Count(r => r.PieceIndex == 0 && r.Length == Block));
    }

    [Fact]
    public void Pick_ZeroLengthPieceWithPriority_Throws()
    {
        var picker = new PiecePicker(1, _ => 0, new Random(1));
        picker.AddPeer(1, All(1));
        Assert.Throws<InvalidOperationException>(() => picker.Pick(1, 1));
    }

    [Fact]
    public void Pick_MaxBlocksAndOutputLength_Bound()
    {
        PiecePicker picker = Uniform(10);
        picker.AddPeer(1, All(10));
        Span<BlockRequest> small = new BlockRequest[3];

        Assert.Equal(3, picker.PickBlocks(1, 100, small));
        Assert.Equal(2, picker.PickBlocks(1, 2, new BlockRequest[10]));
        Assert.Equal(0, picker.PickBlocks(1, 0, new BlockRequest[10]));
        Assert.Equal(5, picker.GetOutstanding(1));
    }

    [Fact]
    public void Pick_PeerWithNothingWeWant_PicksNothing()
    {
        PiecePicker picker = Uniform(10);
        picker.AddPeer(1, Bits(10, 3));
        picker.AddPeer(2);
        picker.MarkVerified(3);

        Assert.Empty(picker.Pick(1, 10));
        Assert.Empty(picker.Pick(2, 10));
        Assert.False(picker.IsInteresting(1));
    }

    [Fact]
    public void Pick_SuggestedPieceBeforeRarest()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 1);
        picker.AddPeer(1, All(10));
        picker.AddPeer(2, Bits(10, 0, 1, 2, 3, 4, 5, 6, 7, 8));
        picker.SuggestPiece(1, 4);
        picker.SuggestPiece(1, 99);

        Assert.Equal(4, picker.Pick(1, 1)[0].PieceIndex);
        Assert.Equal(9, picker.Pick(1, 1)[0].PieceIndex);
    }

    [Fact]
    public void Pick_ChokedPeer_OnlyAllowedFastPieces()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 2);
        picker.AddPeer(1, Bits(10, 2, 5, 7));
        picker.AddPeer(2, Bits(10, 5));

        Assert.True(picker.CanPickFromChokedPeer(1, [5, 8]));
        Assert.False(picker.CanPickFromChokedPeer(1, [8, 9, 42]));
        BlockRequest[] picked = picker.PickAllowed(1, 10, 7, 5, 8);

        // Both allowed pieces the peer has, the rarer (7) first; nothing else.
        Assert.Equal([7, 5], picked.Pieces());
        Assert.False(picker.CanPickFromChokedPeer(1, [5, 7]));
    }

    [Fact]
    public void Pick_ChokedPeer_FinishesAllowedPieceInProgress()
    {
        PiecePicker picker = Uniform(10, blocksPerPiece: 4);
        picker.AddPeer(1, All(10));
        picker.AddPeer(2, All(10));
        int piece = picker.Pick(1, 2)[0].PieceIndex;

        Assert.Equal([(piece, 2 * Block), (piece, 3 * Block)], picker.PickAllowed(2, 2, piece).Select(r => (r.PieceIndex, r.Begin)));
    }

    [Fact]
    public void Pick_MatchesBruteForceRarest_AcrossRandomSwarms()
    {
        // The bucket walk and its budgeted fallback (many pieces, sparse peers) must agree with a full scan.
        for (int seed = 0; seed < 30; seed++)
        {
            var random = new Random(seed);
            int pieces = random.Next(1, 3000);
            PiecePicker picker = Uniform(pieces, blocksPerPiece: 1, seed: seed);
            for (int peer = 0; peer < 12; peer++)
            {
                picker.AddPeer(peer, Random(pieces, random.NextDouble() * random.NextDouble(), random));
            }

            for (int p = 0; p < pieces; p++)
            {
                if (random.Next(4) == 0)
                {
                    picker.SetPiecePriority(p, random.Next(0, 8));
                }
            }

            for (int round = 0; round < 40; round++)
            {
                int peer = random.Next(12);
                int[] candidates = [.. Enumerable.Range(0, pieces).Where(p => picker.PeerHasPiece(peer, p) && !picker.HasPiece(p)
                    && !picker.IsPartial(p) && picker.GetPiecePriority(p) > 0)];
                BlockRequest[] picked = picker.Pick(peer, 1);
                if (candidates.Length == 0)
                {
                    Assert.Empty(picked);
                    continue;
                }

                int top = candidates.Max(picker.GetPiecePriority);
                int rarest = candidates.Where(p => picker.GetPiecePriority(p) == top).Min(picker.GetAvailability);
                int got = Assert.Single(picked).PieceIndex;
                Assert.Equal(top, picker.GetPiecePriority(got));
                Assert.Equal(rarest, picker.GetAvailability(got));
                picker.Receive(peer, got, 0);
                picker.OnHashPassed(got);
            }
        }
    }

    [Fact]
    public void Pick_SteadyState_AllocatesNothing()
    {
        PiecePicker picker = Uniform(2_000, blocksPerPiece: 16);
        var random = new Random(3);
        for (int peer = 0; peer < 20; peer++)
        {
            picker.AddPeer(peer, Random(2_000, peer == 0 ? 0.02 : 0.5, random));
        }

        picker.AddPeer(99, All(2_000));
        var buffer = new BlockRequest[32];
        void Cycle()
        {
            for (int peer = 0; peer < 20; peer++)
            {
                Churn(peer);
            }

            Churn(99);
        }

        void Churn(int peer)
        {
            int n = picker.PickBlocks(peer, buffer.Length, buffer);
            for (int i = 0; i < n; i++)
            {
                picker.OnRequestCancelled(peer, buffer[i].PieceIndex, buffer[i].Begin);
            }
        }

        Cycle();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            Cycle();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
