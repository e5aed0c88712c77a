using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;
using static PeerNet.Engine.Tests.Swarm.PickerKit;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>Availability counting, our own pieces, priorities.</summary>
public sealed class PiecePickerStateTests
{
    [Fact]
    public void AddPeer_Bitfield_CountsEachPiece()
    {
        PiecePicker picker = Uniform(10);
        picker.AddPeer(1, Bits(10, 0, 3));
        picker.AddPeer(2, Bits(10, 3, 9));

        Assert.Equal([1, 0, 0, 2, 0, 0, 0, 0, 0, 1], Enumerable.Range(0, 10).Select(picker.GetAvailability));
    }

    [Fact]
    public void PeerHas_NewAndRepeated_CountsOnce()
    {
        PiecePicker picker = Uniform(10);
        picker.AddPeer(1);
        Assert.True(picker.PeerHas(1, 4));
        picker.PeerHas(1, 4);

        Assert.Equal(1, picker.GetAvailability(4));
        Assert.True(picker.PeerHasPiece(1, 4));
        Assert.False(picker.PeerHasPiece(1, 5));
    }

    [Fact]
    public void PeerHasAll_CountsForEveryPieceThroughOneCounter()
    {
        PiecePicker picker = Uniform(10);
        picker.AddPeer(1, Bits(10, 2));
        picker.AddPeer(2);
        picker.PeerHasAll(2);
        picker.AddPeer(3, All(10));

        Assert.Equal(3, picker.GetAvailability(2));
        Assert.Equal(2, picker.GetAvailability(7));
        Assert.True(picker.IsHaveAll(2));
        Assert.True(picker.IsHaveAll(3));
    }

    [Fact]
    public void PeerHas_LastMissingPiece_BecomesHaveAllWithSameCounts()
    {
        PiecePicker picker = Uniform(3);
        picker.AddPeer(1, Bits(3, 0, 1));
        picker.PeerHas(1, 2);

        Assert.True(picker.IsHaveAll(1));
        Assert.All(Enumerable.Range(0, 3), p => Assert.Equal(1, picker.GetAvailability(p)));
    }

    [Fact]
    public void RemovePeer_UndoesItsCounts()
    {
        PiecePicker picker = Uniform(10);
        picker.AddPeer(1, Bits(10, 0, 3));
        picker.AddPeer(2, All(10));
        picker.RemovePeer(1);
        picker.RemovePeer(2);

        Assert.All(Enumerable.Range(0, 10), p => Assert.Equal(0, picker.GetAvailability(p)));
        Assert.Equal(0, picker.PeerCount);
        Assert.Throws<InvalidOperationException>(() => picker.PeerHas(1, 0));
    }

    [Fact]
    public void AddPeer_Twice_Throws()
    {
        PiecePicker picker = Uniform(4);
        picker.AddPeer(1);
        Assert.Throws<InvalidOperationException>(() => picker.AddPeer(1));
        Assert.Throws<ArgumentException>(() => picker.AddPeer(2, new Bitfield(5)));
    }

    [Fact]
    public void MarkVerified_UpdatesHaveAndRemaining_AndIsNeverPicked()
    {
        PiecePicker picker = Uniform(3);
        Assert.True(picker.MarkVerified(1));
        Assert.False(picker.MarkVerified(1));

        Assert.True(picker.HasPiece(1));
        Assert.Equal(2, picker.Remaining);
        Assert.Equal(1, picker.HaveCount);
        picker.AddPeer(7, All(3));
        BlockRequest[] picked = picker.Pick(7, 100);
        Assert.DoesNotContain(picked, r => r.PieceIndex == 1);
        Assert.Equal(8, picked.Length);
    }

    [Fact]
    public void PriorityZero_NotRemaining_NotPicked_NotInteresting()
    {
        PiecePicker picker = Uniform(3);
        picker.SetPiecePriority(0, 0);
        picker.SetPiecePriority(2, 0);
        picker.AddPeer(1, Bits(3, 0, 2));
        picker.AddPeer(2, Bits(3, 1));

        Assert.Equal(1, picker.Remaining);
        Assert.Empty(picker.Pick(1, 10));
        Assert.False(picker.IsInteresting(1));
        Assert.True(picker.IsInteresting(2));
        Assert.False(picker.PeerHas(1, 0));

        picker.SetPiecePriority(2, 1);
        Assert.Equal(2, picker.Remaining);
        Assert.Equal([2], picker.Pick(1, 10).Pieces());
    }

    [Fact]
    public void SetPiecePriority_OutOfRange_Throws()
    {
        PiecePicker picker = Uniform(3);
        Assert.Throws<ArgumentOutOfRangeException>(() => picker.SetPiecePriority(0, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => picker.SetPiecePriority(0, -1));
    }

    [Fact]
    public void SetFilePriorities_SharedPieceTakesMax_PadOnlyPieceIsZero()
    {
        // Five 32 KiB pieces: a (prio 1) then a pad share pieces 0–1; b (prio 0) and e (prio 5) share piece 2;
        // piece 3 is all pad; c (prio 6) is piece 4.
        const int P = 32 * 1024;
        TorrentFile[] files =
        [
            File(0, 40_000),
            Pad(40_000, (2 * P) - 40_000),
            File(2 * P, P - 1_000),
            File((3 * P) - 1_000, 1_000),
            Pad(3 * P, P),
            File(4 * P, 10_000),
        ];
        var picker = new PiecePicker(5, p => p == 4 ? 10_000 : P, new Random(1));

        picker.SetFilePriorities(files, [1, 7, 0, 5, 7, 6]);

        Assert.Equal([1, 1, 5, 0, 6], Enumerable.Range(0, 5).Select(picker.GetPiecePriority));
        Assert.Equal(4, picker.Remaining);

        static TorrentFile File(long offset, long length) => Place(new TorrentFile("f", length, offset), offset, length);

        static TorrentFile Pad(long offset, long length) => Place(new TorrentFile(".pad/x", length, offset) { IsPadFile = true }, offset, length);

        static TorrentFile Place(TorrentFile f, long offset, long length)
        {
            f.FirstPiece = (int)(offset / P);
            f.LastPiece = (int)((offset + length - 1) / P);
            return f;
        }
    }

    [Fact]
    public void SetFilePriorities_WrongCount_Throws()
    {
        PiecePicker picker = Uniform(3);
        Assert.Throws<ArgumentException>(() => picker.SetFilePriorities([], [1]));
    }

    [Fact]
    public void UniformConstructor_LastPieceShort()
    {
        var picker = new PiecePicker((2L * 65536) + 20_000, 65536, new Random(1));

        Assert.Equal(3, picker.PieceCount);
        Assert.Equal(Block, picker.GetBlockLength(2, 0));
        Assert.Equal(20_000 - Block, picker.GetBlockLength(2, Block));
        Assert.Equal(0, picker.GetBlockLength(2, 2 * Block));
        Assert.Equal(0, picker.GetBlockLength(0, 100));
    }
}
