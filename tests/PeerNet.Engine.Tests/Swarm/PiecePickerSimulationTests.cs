using PeerNet.PeerWire;
using PeerNet.Swarm;
using static PeerNet.Engine.Tests.Swarm.PickerKit;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>Whole downloads against simulated peers, deterministic by seed.</summary>
public sealed class PiecePickerSimulationTests
{
    private const int QueueDepth = 8;

    [Fact]
    public void Simulation_SeederAndPartialPeers_EveryBlockOnce_RarestStartedFirst()
    {
        const int Pieces = 400;
        var random = new Random(2024);
        var picker = new PiecePicker(((Pieces - 1L) * 4 * Block) + 20_000, 4 * Block, new Random(7));
        var swarm = new SimulatedSwarm(picker, random);
        swarm.Add(0, All(Pieces), speed: 2);
        for (int peer = 1; peer <= 20; peer++)
        {
            swarm.Add(peer, Random(Pieces, 0.05 + (0.55 * random.NextDouble()), random), speed: random.Next(1, 5));
        }

        int[] availability = [.. Enumerable.Range(0, Pieces).Select(picker.GetAvailability)];
        swarm.RunToCompletion(maxTicks: 10_000);

        Assert.Equal(0, picker.Remaining);
        Assert.Equal(Pieces, picker.HaveCount);
        Assert.Equal(0, picker.PartialCount);
        Assert.Equal((Pieces * 4) - 2, swarm.Accepted.Count);
        Assert.All(swarm.Accepted.Values, count => Assert.Equal(1, count));
        Assert.Equal(0, swarm.DuplicatesReceived);
        Assert.True(swarm.EndgameDuplicates > 0, "the tail should have gone through endgame");

        // Rarest first: on average the least available quarter starts at under half the rank of the most available one.
        int[] byAvailability = [.. Enumerable.Range(0, Pieces).OrderBy(p => availability[p]).ThenBy(p => p)];
        double rare = byAvailability[..(Pieces / 4)].Average(p => swarm.StartOrder[p]);
        double common = byAvailability[^(Pieces / 4)..].Average(p => swarm.StartOrder[p]);
        Assert.True(rare < common * 0.5, $"rare pieces started at {rare:F0} on average, common ones at {common:F0}");
    }

    [Fact]
    public void Simulation_ChurnTimeoutsAndHashFailures_StillCompletes()
    {
        const int Pieces = 150;
        var random = new Random(99);
        var picker = new PiecePicker(((Pieces - 1L) * 3 * Block) + 5, 3 * Block, new Random(5));
        var swarm = new SimulatedSwarm(picker, random) { TimeoutChance = 0.02, HashFailChance = 0.1, ChurnChance = 0.03 };
        swarm.Add(0, All(Pieces), speed: 1);
        for (int peer = 1; peer <= 10; peer++)
        {
            swarm.Add(peer, Random(Pieces, 0.3, random), speed: random.Next(1, 4));
        }

        swarm.RunToCompletion(maxTicks: 20_000);

        Assert.Equal(0, picker.Remaining);
        Assert.True(swarm.HashFailures > 0);
        Assert.True(swarm.Churned > 0);
        Assert.Equal(0, picker.PartialCount);
    }

    /// <summary>
    /// A downloader's view of a swarm: each tick every peer's request queue is topped up to
    /// <see cref="QueueDepth"/> from the picker, then each peer answers the first <c>speed</c> requests of its queue.
    /// </summary>
    private sealed class SimulatedSwarm(PiecePicker picker, Random random)
    {
        private readonly SortedDictionary<int, (Bitfield Has, int Speed, List<BlockRequest> Queue)> _peers = [];
        private readonly Dictionary<(int Piece, int Begin), int> _inFlight = [];
        private readonly BlockRequest[] _buffer = new BlockRequest[QueueDepth];
        private int _nextPeerId = 1_000;
        private int _starts;

        public double TimeoutChance { get; init; }

        public double HashFailChance { get; init; }

        public double ChurnChance { get; init; }

        public Dictionary<(int Piece, int Begin), int> Accepted { get; } = [];

        public Dictionary<int, int> StartOrder { get; } = [];

        public int DuplicatesReceived { get; private set; }

        public int EndgameDuplicates { get; private set; }

        public int HashFailures { get; private set; }

        public int Churned { get; private set; }

        public void Add(int peer, Bitfield has, int speed)
        {
            picker.AddPeer(peer, has);
            _peers.Add(peer, (has, speed, []));
        }

        public void RunToCompletion(int maxTicks)
        {
            for (int tick = 0; tick < maxTicks && picker.Remaining > 0; tick++)
            {
                foreach (int peer in _peers.Keys.OrderBy(_ => random.Next()).ToArray())
                {
                    Request(peer);
                }

                foreach (int peer in _peers.Keys.ToArray())
                {
                    Deliver(peer);
                }

                if (random.NextDouble() < ChurnChance)
                {
                    Churn();
                }
            }
        }

        private void Request(int peer)
        {
            List<BlockRequest> queue = _peers[peer].Queue;
            Assert.Equal(queue.Count, picker.GetOutstanding(peer));
            int n = picker.PickBlocks(peer, QueueDepth - queue.Count, _buffer);
            foreach (BlockRequest r in _buffer.AsSpan(0, n))
            {
                Assert.True(_peers[peer].Has[r.PieceIndex], "picked a piece the peer lacks");
                Assert.Equal(picker.GetBlockLength(r.PieceIndex, r.Begin), r.Length);
                Assert.False(picker.HasPiece(r.PieceIndex));
                int inFlight = _inFlight.GetValueOrDefault((r.PieceIndex, r.Begin));
                if (inFlight > 0)
                {
                    // A second request for a block in flight only happens in endgame.
                    Assert.True(picker.InEndgame);
                    Assert.True(inFlight < picker.MaxRequestsPerBlock);
                    EndgameDuplicates++;
                }

                _inFlight[(r.PieceIndex, r.Begin)] = inFlight + 1;
                if (StartOrder.TryAdd(r.PieceIndex, _starts))
                {
                    _starts++;
                }

                queue.Add(r);
            }
        }

        private void Deliver(int peer)
        {
            (_, int speed, List<BlockRequest> queue) = _peers[peer];
            for (int i = 0; i < speed && queue.Count > 0; i++)
            {
                BlockRequest r = queue[0];
                queue.RemoveAt(0);
                _inFlight[(r.PieceIndex, r.Begin)]--;
                if (random.NextDouble() < TimeoutChance)
                {
                    Assert.True(picker.OnRequestTimedOut(peer, r.PieceIndex, r.Begin));
                    continue;
                }

                BlockReceipt receipt = picker.OnBlockReceived(peer, r.PieceIndex, r.Begin);
                if (receipt.Status == BlockStatus.Duplicate)
                {
                    DuplicatesReceived++;
                    continue;
                }

                Assert.Equal(BlockStatus.Accepted, receipt.Status);
                Accepted[(r.PieceIndex, r.Begin)] = Accepted.GetValueOrDefault((r.PieceIndex, r.Begin)) + 1;
                foreach (int other in receipt.CancelPeers)
                {
                    Assert.NotEqual(peer, other);
                    Assert.Equal(1, _peers[other].Queue.RemoveAll(q => q == r));
                    _inFlight[(r.PieceIndex, r.Begin)]--;
                }

                if (receipt.PieceComplete)
                {
                    Complete(r.PieceIndex);
                }
            }
        }

        private void Complete(int piece)
        {
            if (random.NextDouble() < HashFailChance)
            {
                int[] sources = picker.OnHashFailed(piece);
                Assert.All(sources, s => Assert.True(s >= 0));
                HashFailures++;
                for (int begin = 0; picker.GetBlockLength(piece, begin) > 0; begin += Block)
                {
                    Accepted.Remove((piece, begin));
                }

                return;
            }

            Assert.True(picker.OnHashPassed(piece));
        }

        private void Churn()
        {
            int[] leechers = [.. _peers.Keys.Where(p => p != 0)];
            int leaving = leechers[random.Next(leechers.Length)];
            foreach (BlockRequest r in _peers[leaving].Queue)
            {
                _inFlight[(r.PieceIndex, r.Begin)]--;
            }

            picker.RemovePeer(leaving);
            _peers.Remove(leaving);
            Add(_nextPeerId++, Random(picker.PieceCount, 0.3, random), random.Next(1, 4));
            Churned++;
        }
    }
}
