using PeerNet.PeerWire;
using PeerNet.Swarm;
using static PeerNet.Engine.Tests.Swarm.PickerKit;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>Block bookkeeping: arrivals, releases, endgame, hash results, departures.</summary>
public sealed class PiecePickerBlockTests
{
    [Fact]
    public void Receive_AllBlocks_LastOneCompletesThePiece()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 3);
        picker.AddPeer(1, All(1));
        BlockRequest[] picked = picker.Pick(1, 3);

        Assert.Equal((BlockStatus.Accepted, false, Array.Empty<int>()), picker.Receive(1, 0, 2 * Block));
        Assert.Equal((BlockStatus.Accepted, false, Array.Empty<int>()), picker.Receive(1, 0, 0));
        Assert.Equal((BlockStatus.Accepted, true, Array.Empty<int>()), picker.Receive(1, 0, Block));
        Assert.Equal(3, picked.Length);
        Assert.Equal(0, picker.GetOutstanding(1));
    }

    [Fact]
    public void Receive_Again_IsDuplicate_AndAfterVerification_StillDuplicate()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 2);
        picker.AddPeer(1, All(1));
        picker.Pick(1, 2);
        picker.Receive(1, 0, 0);

        Assert.Equal(BlockStatus.Duplicate, picker.Receive(1, 0, 0).Status);
        picker.Receive(1, 0, Block);
        picker.OnHashPassed(0);
        Assert.Equal(BlockStatus.Duplicate, picker.Receive(1, 0, 0).Status);
        Assert.Equal(0, picker.Remaining);
        Assert.Equal(0, picker.PartialCount);
    }

    [Fact]
    public void Receive_PieceNotStartedOrBadOffset_IsUnrequested()
    {
        PiecePicker picker = Uniform(2, blocksPerPiece: 2);
        picker.AddPeer(1, All(2));
        int piece = picker.Pick(1, 1)[0].PieceIndex;

        Assert.Equal(BlockStatus.Unrequested, picker.Receive(1, 1 - piece, 0).Status);
        Assert.Equal(BlockStatus.Unrequested, picker.Receive(1, piece, 100).Status);
        Assert.Equal(BlockStatus.Unrequested, picker.Receive(1, piece, 2 * Block).Status);
        Assert.Equal(BlockStatus.Unrequested, picker.Receive(1, 5, 0).Status);
        Assert.Equal(BlockStatus.Unrequested, picker.Receive(1, -1, 0).Status);
    }

    [Theory]
    [InlineData("rejected")]
    [InlineData("cancelled")]
    [InlineData("timedout")]
    public void Release_BlockIsPickableAgain(string how)
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 4);
        picker.AddPeer(1, All(1));
        picker.Pick(1, 4);

        bool released = how switch
        {
            "rejected" => picker.OnRequestRejected(1, 0, Block),
            "cancelled" => picker.OnRequestCancelled(1, 0, Block),
            _ => picker.OnRequestTimedOut(1, 0, Block),
        };

        Assert.True(released);
        Assert.False(picker.OnRequestRejected(1, 0, Block));
        Assert.Equal(3, picker.GetOutstanding(1));
        Assert.Equal([new BlockRequest(0, Block, Block)], picker.Pick(1, 4));
    }

    [Fact]
    public void Release_ThenPick_GivesTheFreedBlockToAnotherPeer()
    {
        PiecePicker picker = Uniform(2, blocksPerPiece: 4);
        picker.AddPeer(1, Bits(2, 0));
        picker.AddPeer(2, Bits(2, 0));
        picker.Pick(1, 4);
        picker.OnRequestTimedOut(1, 0, 2 * Block);

        // A free block comes before any endgame duplicate.
        Assert.Equal(new BlockRequest(0, 2 * Block, Block), picker.Pick(2, 4)[0]);
    }

    [Fact]
    public void Release_LastRequestOfUntouchedPiece_ReturnsItToRarestFirst()
    {
        PiecePicker picker = Uniform(2, blocksPerPiece: 2);
        picker.AddPeer(1, Bits(2, 0));
        picker.Pick(1, 2);
        picker.OnRequestRejected(1, 0, 0);
        picker.OnRequestRejected(1, 0, Block);

        Assert.False(picker.IsPartial(0));
        Assert.Equal(0, picker.PartialCount);
        Assert.Equal(2, picker.Pick(1, 2).Length);
    }

    [Fact]
    public void Receive_LateAfterTimeout_IsAccepted()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 2);
        picker.AddPeer(1, All(1));
        picker.Pick(1, 2);
        picker.OnRequestTimedOut(1, 0, Block);

        Assert.Equal(BlockStatus.Accepted, picker.Receive(1, 0, Block).Status);
        Assert.Equal(1, picker.GetOutstanding(1));
    }

    [Fact]
    public void Endgame_DuplicatesBounded_AndArrivalCancelsTheOthers()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 2);
        for (int peer = 1; peer <= 5; peer++)
        {
            picker.AddPeer(peer, All(1));
        }

        Assert.False(picker.InEndgame);
        Assert.Equal(2, picker.Pick(1, 10).Length);
        Assert.True(picker.InEndgame);

        // Each block may be out to three peers at once: peers 2 and 3 get both, peer 4 nothing.
        Assert.Equal(2, picker.Pick(2, 10).Length);
        Assert.Equal(2, picker.Pick(3, 10).Length);
        Assert.Empty(picker.Pick(4, 10));
        Assert.Empty(picker.Pick(1, 10));

        (BlockStatus status, bool complete, int[] cancel) = picker.Receive(2, 0, Block);
        Assert.Equal(BlockStatus.Accepted, status);
        Assert.False(complete);
        Assert.Equal([1, 3], cancel.Order());
        Assert.Equal(BlockStatus.Duplicate, picker.Receive(3, 0, Block).Status);
        Assert.Equal(1, picker.GetOutstanding(1));
        Assert.Equal(1, picker.GetOutstanding(3));
    }

    [Fact]
    public void Endgame_FewestRequestedBlocksFirst()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 2);
        picker.MaxRequestsPerBlock = 2;
        picker.AddPeer(1, All(1));
        picker.AddPeer(2, All(1));
        picker.AddPeer(3, All(1));
        picker.Pick(1, 2);

        Assert.Equal([new BlockRequest(0, 0, Block)], picker.Pick(2, 1));
        Assert.Equal([new BlockRequest(0, Block, Block)], picker.Pick(3, 1));
        Assert.Empty(picker.Pick(3, 1));
    }

    [Fact]
    public void Endgame_NotWhileAnyWantedPieceIsUnstarted_EvenOneNobodyHas()
    {
        PiecePicker picker = Uniform(3, blocksPerPiece: 1);
        picker.AddPeer(1, Bits(3, 0));
        picker.AddPeer(2, Bits(3, 0, 1));
        picker.Pick(1, 1);

        // Peer 1 has nothing else, but piece 1 (peer 2's) is unstarted: no duplicate.
        Assert.False(picker.InEndgame);
        Assert.Empty(picker.Pick(1, 1));
        Assert.Equal([1], picker.Pick(2, 1).Pieces());

        // Everything the peers have is started, but piece 2, which nobody has yet, is not (strict endgame, as
        // libtorrent's): no duplicates while the swarm still waits for it, until someone has it and it is started.
        Assert.False(picker.InEndgame);
        Assert.Empty(picker.Pick(2, 1));
        picker.AddPeer(3, Bits(3, 2));
        Assert.Equal([2], picker.Pick(3, 1).Pieces());
        Assert.True(picker.InEndgame);
        Assert.Equal([0], picker.Pick(2, 1).Pieces());
    }

    [Fact]
    public void MaxRequestsPerBlock_OutOfRange_Throws()
    {
        PiecePicker picker = Uniform(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => picker.MaxRequestsPerBlock = 0);
        Assert.Throws<ArgumentOutOfRangeException>(() => picker.MaxRequestsPerBlock = 5);
    }

    [Fact]
    public void HashFailed_ReturnsSourcesPerBlock_AndPieceStartsOver()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 3);
        picker.AddPeer(10, All(1));
        picker.AddPeer(20, All(1));
        picker.Pick(10, 2);
        picker.Pick(20, 1);
        picker.Receive(20, 0, 2 * Block);
        picker.Receive(10, 0, 0);
        Assert.True(picker.Receive(10, 0, Block).Complete);

        var sources = new int[3];
        Assert.Equal(3, picker.GetBlockSources(0, sources));
        Assert.Equal([10, 10, 20], sources);
        Assert.Equal([10, 10, 20], picker.OnHashFailed(0));

        Assert.False(picker.IsPartial(0));
        Assert.Equal(1, picker.Remaining);
        Assert.Equal(3, picker.Pick(20, 10).Length);
        Assert.Equal(BlockStatus.Accepted, picker.Receive(20, 0, 0).Status);
    }

    [Fact]
    public void HashFailed_OnIncompletePiece_Throws()
    {
        PiecePicker picker = Uniform(2, blocksPerPiece: 2);
        picker.AddPeer(1, All(2));
        int piece = picker.Pick(1, 1)[0].PieceIndex;

        Assert.Throws<InvalidOperationException>(() => picker.OnHashFailed(piece));
        Assert.Throws<InvalidOperationException>(() => picker.OnHashFailed(1 - piece));
        Assert.Equal(0, picker.GetBlockSources(1 - piece, new int[2]));
    }

    [Fact]
    public void RemovePeer_ReleasesItsBlocks_ToOtherPeers()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 4);
        picker.AddPeer(1, All(1));
        picker.AddPeer(2, All(1));
        picker.Pick(1, 4);
        picker.Receive(1, 0, 0);

        picker.RemovePeer(1);

        Assert.Equal([Block, 2 * Block, 3 * Block], picker.Pick(2, 10).Select(r => r.Begin));
    }

    [Fact]
    public void RemovePeer_InEndgame_LeavesOtherRequesters()
    {
        PiecePicker picker = Uniform(1, blocksPerPiece: 1);
        picker.AddPeer(1, All(1));
        picker.AddPeer(2, All(1));
        picker.Pick(1, 1);
        picker.Pick(2, 1);

        picker.RemovePeer(1);

        Assert.Equal(1, picker.GetOutstanding(2));
        Assert.Equal((BlockStatus.Accepted, true, Array.Empty<int>()), picker.Receive(2, 0, 0));
    }

    [Fact]
    public void ReleaseRequests_ChokeWithoutFastExtension_FreesAll()
    {
        PiecePicker picker = Uniform(4, blocksPerPiece: 4);
        picker.AddPeer(1, All(4));
        picker.AddPeer(2, All(4));
        picker.Pick(1, 10);

        Assert.Equal(10, picker.ReleaseRequests(1));
        Assert.Equal(0, picker.GetOutstanding(1));
        Assert.Equal(0, picker.PartialCount);
        Assert.Equal(16, picker.Pick(2, 100).Length);
    }

    [Fact]
    public void MarkVerified_PieceInProgress_DropsItsRequests()
    {
        PiecePicker picker = Uniform(2, blocksPerPiece: 2);
        picker.AddPeer(1, Bits(2, 0));
        picker.Pick(1, 2);

        Assert.True(picker.MarkVerified(0));
        Assert.Equal(0, picker.GetOutstanding(1));
        Assert.Equal(0, picker.PartialCount);
        Assert.Equal(BlockStatus.Duplicate, picker.Receive(1, 0, 0).Status);
    }

    [Fact]
    public void PriorityZero_OnPieceInProgress_NoNewRequests()
    {
        PiecePicker picker = Uniform(2, blocksPerPiece: 4);
        picker.AddPeer(1, Bits(2, 0));
        picker.Pick(1, 2);
        picker.SetPiecePriority(0, 0);

        Assert.Empty(picker.Pick(1, 4));
        Assert.Equal(BlockStatus.Accepted, picker.Receive(1, 0, 0).Status);
        picker.OnRequestCancelled(1, 0, Block);
        picker.OnRequestCancelled(1, 0, 0);
        picker.SetPiecePriority(0, 4);
        Assert.Equal(3, picker.Pick(1, 4).Length);
    }
}
