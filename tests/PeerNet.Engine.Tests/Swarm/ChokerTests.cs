using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

public sealed class ChokerTests
{
    private static readonly TimeSpan Round = TimeSpan.FromSeconds(10);

    [Fact]
    public void Leeching_TopThreeByDownloadRate_PlusOneOptimistic()
    {
        var h = new Harness(new ChokerOptions(), seed: 1);
        for (int id = 1; id <= 8; id++)
        {
            h.Add(id, downloadRate: id * 1_000);
        }

        IReadOnlySet<int> unchoked = h.Run();

        Assert.Equal(4, unchoked.Count);
        Assert.Superset(new HashSet<int> { 8, 7, 6 }, unchoked.ToHashSet());
        Assert.NotNull(h.Choker.OptimisticPeer);
        Assert.InRange(h.Choker.OptimisticPeer!.Value, 1, 5);
    }

    [Fact]
    public void Leeching_RatesChange_SlotsFollow()
    {
        var h = new Harness(new ChokerOptions { MinimumUnchokeTime = TimeSpan.Zero }, seed: 2);
        for (int id = 1; id <= 6; id++)
        {
            h.Add(id, downloadRate: id * 1_000);
        }

        h.Run();
        h.Peers[1].DownloadRate = 50_000;
        h.Peers[2].DownloadRate = 40_000;
        h.Peers[3].DownloadRate = 30_000;
        IReadOnlySet<int> unchoked = h.Run();

        Assert.Superset(new HashSet<int> { 1, 2, 3 }, unchoked.ToHashSet());
        Assert.Equal(4, unchoked.Count);
    }

    [Fact]
    public void Leeching_NotInterestedAndSeeds_NeverUnchoked()
    {
        var h = new Harness(new ChokerOptions(), seed: 3);
        h.Add(1, downloadRate: 9_000, interested: false);
        h.Add(2, downloadRate: 9_000, seed: true);
        h.Add(3, downloadRate: 1);

        for (int round = 0; round < 10; round++)
        {
            Assert.Equal([3], h.Run());
        }
    }

    [Fact]
    public void Leeching_SnubbedPeer_NoRegularSlot_NotOptimisticWhileOthersWait()
    {
        var h = new Harness(new ChokerOptions(), seed: 4);
        h.Add(1, downloadRate: 1_000_000, snubbed: true);
        for (int id = 2; id <= 6; id++)
        {
            h.Add(id, downloadRate: id);
        }

        for (int round = 0; round < 30; round++)
        {
            Assert.DoesNotContain(1, h.Run());
        }
    }

    [Fact]
    public void Leeching_OnlySnubbedPeerLeft_MayBeOptimistic()
    {
        var h = new Harness(new ChokerOptions(), seed: 5);
        h.Add(1, downloadRate: 5, snubbed: true);
        h.Add(2, downloadRate: 5);

        Assert.Equal([1, 2], h.Run().Order());
        Assert.Equal(1, h.Choker.OptimisticPeer);
    }

    [Fact]
    public void Leeching_OptimisticRotatesEveryThreeRounds()
    {
        var h = new Harness(new ChokerOptions(), seed: 6);
        for (int id = 1; id <= 12; id++)
        {
            h.Add(id, downloadRate: id <= 3 ? 1_000_000 : 10);
        }

        var optimistic = new List<int>();
        for (int round = 0; round < 12; round++)
        {
            h.Run();
            optimistic.Add(h.Choker.OptimisticPeer!.Value);
        }

        for (int round = 0; round < 12; round++)
        {
            if (round % 3 == 0)
            {
                Assert.True(round == 0 || optimistic[round] != optimistic[round - 1], $"no rotation at round {round}");
            }
            else
            {
                Assert.Equal(optimistic[round - 1], optimistic[round]);
            }
        }
    }

    [Fact]
    public void Leeching_OptimisticLosesInterest_ReplacedAtOnce()
    {
        var h = new Harness(new ChokerOptions(), seed: 7);
        for (int id = 1; id <= 6; id++)
        {
            h.Add(id, downloadRate: id <= 3 ? 1_000 : 1);
        }

        h.Run();
        int first = h.Choker.OptimisticPeer!.Value;
        h.Peers[first].Interested = false;

        IReadOnlySet<int> unchoked = h.Run();

        Assert.DoesNotContain(first, unchoked);
        Assert.NotNull(h.Choker.OptimisticPeer);
        Assert.NotEqual(first, h.Choker.OptimisticPeer);
    }

    [Fact]
    public void Leeching_OptimisticPrefersNewPeers_AboutThreeToOne()
    {
        var h = new Harness(new ChokerOptions { OptimisticInterval = 1 }, seed: 8);
        for (int id = 1; id <= 20; id++)
        {
            h.Add(id, downloadRate: id <= 3 ? 1_000_000 : 0);
        }

        var picks = new Dictionary<bool, int> { [true] = 0, [false] = 0 };
        for (int round = 0; round < 3_000; round++)
        {
            // Peers 4–11 always just connected; 12–20 long connected.
            foreach (int id in Enumerable.Range(4, 8))
            {
                h.Peers[id].ConnectedSince = h.Now - TimeSpan.FromSeconds(5);
            }

            h.Run();
            picks[h.Choker.OptimisticPeer!.Value <= 11]++;
        }

        double perNewPeer = picks[true] / 8.0;
        double perOldPeer = picks[false] / 9.0;
        Assert.InRange(perNewPeer / perOldPeer, 2.4, 3.6);
    }

    [Fact]
    public void Leeching_RecentlyUnchokedPeer_KeepsSlotForOneRound()
    {
        var h = new Harness(new ChokerOptions(), seed: 9);
        h.Add(1, downloadRate: 10);
        for (int id = 2; id <= 5; id++)
        {
            h.Add(id, downloadRate: id * 1_000);
        }

        // Peer 1 was unchoked (between rounds) 5 s ago: it keeps its slot though three peers are faster.
        h.Peers[1].Unchoked = true;
        h.Peers[1].LastUnchokedAt = h.Now - TimeSpan.FromSeconds(5);
        h.Now += TimeSpan.FromSeconds(1);
        Assert.Contains(1, h.Run());

        // One round on it has had its chance.
        h.Now += Round;
        Assert.DoesNotContain(1, h.RunRegularOnly());
    }

    [Fact]
    public void Leeching_MoreRecentlyUnchokedThanSlots_FastestOfThemKept()
    {
        var h = new Harness(new ChokerOptions(), seed: 10);
        for (int id = 1; id <= 5; id++)
        {
            h.Add(id, downloadRate: id * 1_000);
            h.Peers[id].Unchoked = true;
            h.Peers[id].LastUnchokedAt = h.Now - TimeSpan.FromSeconds(1);
        }

        h.Add(6, downloadRate: 1_000_000);
        IReadOnlySet<int> unchoked = h.Run();

        Assert.Superset(new HashSet<int> { 5, 4, 3 }, unchoked.ToHashSet());
        Assert.DoesNotContain(6, unchoked.Where(id => id != h.Choker.OptimisticPeer));
    }

    [Fact]
    public void Seeding_RoundRobin_ServesEveryInterestedPeerWithinNineRounds()
    {
        var h = new Harness(new ChokerOptions(), seed: 11);
        for (int id = 1; id <= 10; id++)
        {
            h.Add(id, uploadRate: id * 1_000);
        }

        h.Add(11, interested: false);
        var served = new HashSet<int>();
        for (int round = 0; round < 9; round++)
        {
            IReadOnlySet<int> unchoked = h.Run(seeding: true);
            Assert.Equal(4, unchoked.Count);
            served.UnionWith(unchoked);
        }

        Assert.Equal(Enumerable.Range(1, 10), served.Order());
        Assert.Null(h.Choker.OptimisticPeer);
    }

    [Fact]
    public void Seeding_PeerKeepsItsTurnThreeRounds()
    {
        var h = new Harness(new ChokerOptions { UploadSlots = 1 }, seed: 12);
        h.Add(1);
        h.Add(2);
        h.Add(3);

        int[] sequence = [.. Enumerable.Range(0, 9).Select(_ => h.Run(seeding: true).Single())];

        Assert.Equal([1, 1, 1, 2, 2, 2, 3, 3, 3], sequence);
    }

    [Fact]
    public void Seeding_SnubbedPeerExcluded()
    {
        var h = new Harness(new ChokerOptions(), seed: 13);
        h.Add(1, snubbed: true);
        h.Add(2);

        Assert.Equal([2], h.Run(seeding: true));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void UnlimitedSlots_UnchokesEveryInterestedPeer(bool seeding)
    {
        var h = new Harness(new ChokerOptions { UploadSlots = 0 }, seed: 14);
        for (int id = 1; id <= 30; id++)
        {
            h.Add(id, downloadRate: id, interested: id % 3 != 0, snubbed: id % 5 == 0);
        }

        Assert.Equal(Enumerable.Range(1, 30).Where(id => id % 3 != 0), h.Run(seeding).Order());
    }

    [Fact]
    public void SameSeed_SameRounds()
    {
        int[][] Play()
        {
            var h = new Harness(new ChokerOptions(), seed: 15);
            for (int id = 1; id <= 10; id++)
            {
                h.Add(id, downloadRate: id % 4);
            }

            return [.. Enumerable.Range(0, 20).Select(_ => h.Run().Order().ToArray())];
        }

        Assert.Equal(Play(), Play());
    }

    [Fact]
    public void Options_Invalid_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Choker(new ChokerOptions { UploadSlots = -1 }, new Random(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Choker(new ChokerOptions { OptimisticInterval = 0 }, new Random(1)));
    }

    /// <summary>Plays the torrent's side: keeps each peer's unchoke state as the choker's decisions dictate, 10 s per round.</summary>
    private sealed class Harness(ChokerOptions options, int seed)
    {
        public Choker Choker { get; } = new(options, new Random(seed));

        public SortedDictionary<int, PeerStats> Peers { get; } = [];

        public TimeSpan Now { get; set; } = TimeSpan.FromHours(1);

        public void Add(int id, long downloadRate = 0, long uploadRate = 0, bool interested = true, bool snubbed = false, bool seed = false) =>
            Peers.Add(id, new PeerStats
            {
                DownloadRate = downloadRate,
                UploadRate = uploadRate,
                Interested = interested,
                Snubbed = snubbed,
                Seed = seed,
                ConnectedSince = Now - TimeSpan.FromMinutes(10),
            });

        public IReadOnlySet<int> Run(bool seeding = false)
        {
            ChokerPeer[] view = [.. Peers.Select(p => new ChokerPeer
            {
                PeerId = p.Key,
                IsInterested = p.Value.Interested,
                IsUnchoked = p.Value.Unchoked,
                DownloadRate = p.Value.DownloadRate,
                UploadRate = p.Value.UploadRate,
                IsSnubbed = p.Value.Snubbed,
                IsSeed = p.Value.Seed,
                ConnectedSince = p.Value.ConnectedSince,
                LastUnchokedAt = p.Value.LastUnchokedAt,
            })];
            IReadOnlySet<int> unchoked = Choker.Run(view, Now, seeding);
            foreach ((int id, PeerStats stats) in Peers)
            {
                bool now = unchoked.Contains(id);
                if (now && !stats.Unchoked)
                {
                    stats.LastUnchokedAt = Now;
                }

                stats.Unchoked = now;
            }

            Now += Round;
            return unchoked;
        }

        /// <summary>Runs a round and returns the unchoked peers other than the optimistic one.</summary>
        public HashSet<int> RunRegularOnly()
        {
            HashSet<int> set = [.. Run()];
            if (Choker.OptimisticPeer is int o)
            {
                set.Remove(o);
            }

            return set;
        }
    }

    private sealed class PeerStats
    {
        public long DownloadRate { get; set; }

        public long UploadRate { get; set; }

        public bool Interested { get; set; }

        public bool Snubbed { get; set; }

        public bool Seed { get; set; }

        public bool Unchoked { get; set; }

        public TimeSpan ConnectedSince { get; set; }

        public TimeSpan? LastUnchokedAt { get; set; }
    }
}
