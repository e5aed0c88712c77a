using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>Small builders shared by the picker tests.</summary>
internal static class PickerKit
{
    public const int Block = PiecePicker.BlockSize;

    /// <summary>A v1-shaped picker: <paramref name="pieces"/> pieces of <paramref name="blocksPerPiece"/> full blocks.</summary>
    public static PiecePicker Uniform(int pieces, int blocksPerPiece = 4, int seed = 1) =>
        new((long)pieces * blocksPerPiece * Block, blocksPerPiece * Block, new Random(seed));

    public static Bitfield Bits(int length, params int[] set)
    {
        var bits = new Bitfield(length);
        foreach (int i in set)
        {
            bits.Set(i);
        }

        return bits;
    }

    public static Bitfield All(int length)
    {
        var bits = new Bitfield(length);
        bits.SetAll();
        return bits;
    }

    public static Bitfield Random(int length, double p, Random random)
    {
        var bits = new Bitfield(length);
        for (int i = 0; i < length; i++)
        {
            if (random.NextDouble() < p)
            {
                bits.Set(i);
            }
        }

        return bits;
    }

    public static BlockRequest[] Pick(this PiecePicker picker, int peer, int max)
    {
        var buffer = new BlockRequest[max];
        int n = picker.PickBlocks(peer, max, buffer);
        return buffer[..n];
    }

    public static BlockRequest[] PickAllowed(this PiecePicker picker, int peer, int max, params int[] allowed)
    {
        var buffer = new BlockRequest[max];
        int n = picker.PickBlocks(peer, max, buffer, allowed);
        return buffer[..n];
    }

    /// <summary>Receives a block and copies the receipt out of its scratch span.</summary>
    public static (BlockStatus Status, bool Complete, int[] Cancel) Receive(this PiecePicker picker, int peer, int piece, int begin)
    {
        BlockReceipt r = picker.OnBlockReceived(peer, piece, begin);
        return (r.Status, r.PieceComplete, r.CancelPeers.ToArray());
    }

    public static int[] Pieces(this BlockRequest[] requests) => [.. requests.Select(r => r.PieceIndex).Distinct()];
}
