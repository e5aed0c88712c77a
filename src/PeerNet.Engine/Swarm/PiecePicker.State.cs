using PeerNet.PeerWire;

namespace PeerNet.Swarm;

internal sealed partial class PiecePicker
{
    private enum BlockState : byte
    {
        Free,
        Requested,
        Received,
    }

    /// <summary>
    /// A piece being downloaded: per block its state, the peers it is requested from (up to
    /// <see cref="MaxRequestsPerBlockLimit"/>, as peer slots) and the peer that delivered it. Recycled through a
    /// pool, so steady-state picking allocates nothing.
    /// </summary>
    private sealed class PartialPiece
    {
        public int Piece;
        public int BlockCount;
        public int LastBlockLength;
        public int Free;
        public int Requested;
        public int Received;
        public int FreeHint;
        public int ListIndex;

        /// <summary>Slot of the peer the piece belongs to (it started it or adopted it), or -1.</summary>
        public int Owner;
        public PeerSpeed Speed;
        public BlockState[] State = [];
        public byte[] RequestCount = [];
        public int[] Requesters = [];
        public int[] Sources = [];

        public void Reset(int piece, int length)
        {
            int blocks = (int)(((long)length + BlockSize - 1) / BlockSize);
            if (State.Length < blocks)
            {
                State = new BlockState[blocks];
                RequestCount = new byte[blocks];
                Requesters = new int[blocks * MaxRequestsPerBlockLimit];
                Sources = new int[blocks];
            }
            else
            {
                Array.Clear(State, 0, blocks);
                Array.Clear(RequestCount, 0, blocks);
            }

            Piece = piece;
            BlockCount = blocks;
            LastBlockLength = length - ((blocks - 1) * BlockSize);
            Free = blocks;
            Requested = 0;
            Received = 0;
            FreeHint = 0;
            Owner = -1;
        }

        public int BlockLength(int block) => block == BlockCount - 1 ? LastBlockLength : BlockSize;

        public bool IsRequester(int block, int slot)
        {
            int start = block * MaxRequestsPerBlockLimit;
            for (int k = 0; k < RequestCount[block]; k++)
            {
                if (Requesters[start + k] == slot)
                {
                    return true;
                }
            }

            return false;
        }

        public void AddRequester(int block, int slot) => Requesters[(block * MaxRequestsPerBlockLimit) + RequestCount[block]++] = slot;

        public bool RemoveRequester(int block, int slot)
        {
            int start = block * MaxRequestsPerBlockLimit;
            int count = RequestCount[block];
            for (int k = 0; k < count; k++)
            {
                if (Requesters[start + k] == slot)
                {
                    Requesters[start + k] = Requesters[start + count - 1];
                    RequestCount[block] = (byte)(count - 1);
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>What the picker knows of one connected peer.</summary>
    private sealed class PeerState
    {
        public PeerState(int id, int slot, Bitfield? has)
        {
            Id = id;
            Slot = slot;
            Has = has;
        }

        public int Id { get; }

        public int Slot { get; }

        /// <summary>The pieces the peer has; null once it has all of them.</summary>
        public Bitfield? Has { get; set; }

        public bool HaveAll => Has is null;

        public PeerSpeed Speed { get; set; } = PeerSpeed.Medium;

        /// <summary>Blocks requested from this peer and not yet delivered, rejected, cancelled or timed out.</summary>
        public int Outstanding { get; set; }

        /// <summary>BEP 6 suggested pieces, newest last, at most <see cref="MaxSuggestions"/>.</summary>
        public List<int>? Suggested { get; set; }

        public bool HasPiece(int piece) => Has is null || Has[piece];
    }
}
