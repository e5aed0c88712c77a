using System.Buffers;
using CsCheck;
using PeerNet.PeerWire;

namespace PeerNet.Codecs.Tests.PeerWire;

public sealed class BitfieldTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    public void SetAll_SetsExactlyLengthBits(int length)
    {
        var bits = new Bitfield(length);
        Assert.True(bits.NoneSet);
        bits.SetAll();
        Assert.True(bits.AllSet);
        Assert.Equal(length, bits.SetCount);
        Assert.Equal(-1, bits.FirstClear());
        var wire = new byte[bits.WireLength];
        bits.WriteWire(wire);
        Assert.True(Bitfield.TryFromWire(new ReadOnlySequence<byte>(wire), length, out Bitfield? back, out _));
        Assert.True(back.AllSet);
        bits.ClearAll();
        Assert.True(bits.NoneSet);
        Assert.Equal(-1, bits.FirstSet());
    }

    [Fact]
    public void SetAndClear_TrackTheCount()
    {
        var bits = new Bitfield(100);
        Assert.True(bits.Set(99));
        Assert.False(bits.Set(99));
        bits[3] = true;
        Assert.True(bits[3]);
        Assert.Equal(2, bits.SetCount);
        Assert.True(bits.Clear(3));
        Assert.False(bits.Clear(3));
        bits[99] = false;
        Assert.True(bits.NoneSet);
        Assert.Throws<ArgumentOutOfRangeException>(() => bits[100]);
        Assert.Throws<ArgumentOutOfRangeException>(() => bits.Set(-1));
    }

    [Fact]
    public void WireOrder_PieceZeroIsTheHighBitOfByteZero()
    {
        var bits = new Bitfield(20);
        bits.Set(0);
        bits.Set(9);
        bits.Set(19);
        var wire = new byte[3];
        Assert.Equal(3, bits.WriteWire(wire));
        Assert.Equal(new byte[] { 0x80, 0x40, 0x10 }, wire);
    }

    [Fact]
    public void TryReadWire_AnySegmentation_ReadsTheSameBits()
    {
        // 150 pieces: two whole words and a tail of 3 bytes, so segment splits cross word boundaries.
        byte[] wire = [.. Enumerable.Range(0, 19).Select(i => (byte)(i * 37 + 11))];
        wire[^1] &= 0xFC;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(wire))
        {
            Assert.True(Bitfield.TryFromWire(sequence, 150, out Bitfield? bits, out PeerWireError error), $"{shape} {error}");
            var back = new byte[19];
            bits.WriteWire(back);
            Assert.Equal(wire, back);
            Assert.Equal(wire.Sum(b => System.Numerics.BitOperations.PopCount(b)), bits.SetCount);
        }
    }

    [Theory]
    [InlineData(10, 0x01)]
    [InlineData(10, 0x20)]
    [InlineData(1, 0x40)]
    [InlineData(15, 0x01)]
    public void TryReadWire_SpareBitSet_IsRefused(int length, byte lastByte)
    {
        var wire = new byte[Bitfield.GetWireLength(length)];
        wire[^1] = lastByte;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(wire))
        {
            Assert.False(Bitfield.TryFromWire(sequence, length, out _, out PeerWireError error), shape);
            Assert.Equal(PeerWireError.BitfieldSpareBitsSet, error);
        }
    }

    [Theory]
    [InlineData(10, 1)]
    [InlineData(10, 3)]
    [InlineData(8, 0)]
    [InlineData(8, 2)]
    [InlineData(0, 1)]
    public void TryReadWire_WrongLength_IsRefused(int length, int wireLength)
    {
        Assert.False(Bitfield.TryFromWire(new ReadOnlySequence<byte>(new byte[wireLength]), length, out _, out PeerWireError error));
        Assert.Equal(PeerWireError.BitfieldWrongLength, error);
    }

    [Fact]
    public void TryReadWire_Failure_LeavesTheBitfieldUnchanged()
    {
        var bits = new Bitfield(10);
        bits.Set(4);
        Assert.False(bits.TryReadWire(new ReadOnlySequence<byte>([0xFF, 0xFF]), out _));
        Assert.Equal(1, bits.SetCount);
        Assert.True(bits[4]);
        Assert.True(bits.TryReadWire(new ReadOnlySequence<byte>([0xFF, 0xC0]), out _));
        Assert.True(bits.AllSet);
    }

    [Fact]
    public void FirstSetExcept_FindsWhatThePeerHasAndWeLack()
    {
        var theirs = new Bitfield(200);
        var ours = new Bitfield(200);
        theirs.Set(5);
        theirs.Set(130);
        ours.Set(5);
        Assert.Equal(130, theirs.FirstSetExcept(ours));
        Assert.True(theirs.ContainsAnyExcept(ours));
        Assert.Equal(-1, theirs.FirstSetExcept(ours, 131));
        ours.Set(130);
        Assert.False(theirs.ContainsAnyExcept(ours));
        Assert.Throws<ArgumentException>(() => theirs.FirstSetExcept(new Bitfield(199)));
    }

    [Fact]
    public void Scans_AgreeWithANaiveModel()
    {
        Gen<(int Length, bool[] A, bool[] B, int Start)> gen =
            from length in Gen.Int[0, 300]
            from a in Gen.Bool.Array[length]
            from b in Gen.Bool.Array[length]
            from start in Gen.Int[0, length]
            select (length, a, b, start);

        gen.Sample(t =>
        {
            Bitfield a = Build(t.A);
            Bitfield b = Build(t.B);
            int firstSet = Array.FindIndex(t.A, t.Start, x => x);
            int firstClear = Array.FindIndex(t.A, t.Start, x => !x);
            int firstExcept = Enumerable.Range(t.Start, t.Length - t.Start).Where(i => t.A[i] && !t.B[i]).DefaultIfEmpty(-1).First();
            Assert.Equal(firstSet, a.FirstSet(t.Start));
            Assert.Equal(firstClear, a.FirstClear(t.Start));
            Assert.Equal(firstExcept, a.FirstSetExcept(b, t.Start));
            Assert.Equal(t.A.Count(x => x), a.SetCount);
            Assert.Equal(t.A.All(x => x), a.AllSet);

            var wire = new byte[a.WireLength];
            a.WriteWire(wire);
            for (int i = 0; i < t.Length; i++)
            {
                Assert.Equal(t.A[i], (wire[i >> 3] & (0x80 >> (i & 7))) != 0);
            }

            Bitfield clone = a.Clone();
            Assert.Equal(a.SetCount, clone.SetCount);
            Assert.Equal(a.FirstSet(), clone.FirstSet());
        });
    }

    private static Bitfield Build(bool[] bits)
    {
        var field = new Bitfield(bits.Length);
        for (int i = 0; i < bits.Length; i++)
        {
            field[i] = bits[i];
        }

        return field;
    }
}
