using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Dht;
using PeerNet.Discovery.Dht;

namespace PeerNet.Engine.Tests.Dht;

public sealed class RoutingTableTests
{
    private static readonly NodeId Own = NodeId.ParseHex("0000000000000000000000000000000000000000");
    private readonly FakeTimeProvider _time = new();

    /// <summary>An ID sharing exactly <paramref name="prefix"/> leading bits with <see cref="Own"/>, varied by <paramref name="n"/>.</summary>
    private static NodeId At(int prefix, int n) => Own.FlipBit(prefix).FlipBit(159 - (n % 8)).FlipBit(150 - (n / 8));

    private static IPEndPoint Ep(int n) => new(IPAddress.Parse($"10.1.{n / 250}.{(n % 250) + 1}"), 6881);

    private RoutingTable Table(bool restrict = true) => new(Own, 8, restrict, _time);

    [Fact]
    public void Responded_MoreThanKNodes_SplitsOnlyTheBucketHoldingOurId()
    {
        RoutingTable table = Table();
        for (int i = 0; i < 16; i++)
        {
            table.Responded(new DhtContact(At(0, i), Ep(i)), verified: true);
        }

        // Bucket 0 (first bit differs) filled with 8; the split made bucket 1; the other 8 wait as replacements.
        Assert.Equal(8, table.Count);
        Assert.Equal(2, table.BucketCount);
        Assert.Equal(8, table.CountStates().Replacements);
        for (int i = 0; i < 8; i++)
        {
            table.Responded(new DhtContact(At(1 + i, 100 + i), Ep(100 + i)), verified: true);
        }

        // Those share at least one bit with us: the last bucket takes them; one more splits it again.
        Assert.Equal(16, table.Count);
        Assert.Equal(2, table.BucketCount);
        table.Responded(new DhtContact(At(9, 200), Ep(200)), verified: true);
        Assert.Equal(17, table.Count);
        Assert.True(table.BucketCount > 2);
    }

    [Fact]
    public void Failed_Twice_MakesTheNodeBadAndItsReplacementTakesItsPlace()
    {
        RoutingTable table = Table();
        for (int i = 0; i < 9; i++)
        {
            table.Responded(new DhtContact(At(0, i), Ep(i)), verified: true);
        }

        Assert.Null(table.Find(At(0, 8)));
        table.Failed(At(0, 0), Ep(0));
        Assert.NotNull(table.Find(At(0, 0)));
        table.Failed(At(0, 0), Ep(0));
        Assert.Null(table.Find(At(0, 0)));
        Assert.NotNull(table.Find(At(0, 8)));
    }

    [Fact]
    public void Responded_SameAddressTwice_KeepsOneEntryUnlessUnrestricted()
    {
        IPEndPoint sameIp = Ep(1);
        RoutingTable restricted = Table();
        restricted.Responded(new DhtContact(At(3, 1), sameIp), verified: true);
        restricted.Responded(new DhtContact(At(4, 2), new IPEndPoint(sameIp.Address, 7000)), verified: true);
        Assert.Equal(1, restricted.Count);

        RoutingTable open = Table(restrict: false);
        open.Responded(new DhtContact(At(3, 1), sameIp), verified: true);
        open.Responded(new DhtContact(At(4, 2), new IPEndPoint(sameIp.Address, 7000)), verified: true);
        Assert.Equal(2, open.Count);
    }

    [Fact]
    public void Responded_VerifiedIdFromAnAddressWithAnUnverifiedOne_ReplacesIt()
    {
        RoutingTable table = Table();
        table.Responded(new DhtContact(At(3, 1), Ep(1)), verified: false);
        table.Responded(new DhtContact(At(4, 2), Ep(1)), verified: true);
        Assert.Null(table.Find(At(3, 1)));
        Assert.NotNull(table.Find(At(4, 2)));
    }

    [Fact]
    public void Responded_KnownIdFromAnotherEndPoint_IsIgnored()
    {
        RoutingTable table = Table();
        table.Responded(new DhtContact(At(3, 1), Ep(1)), verified: true);
        table.Responded(new DhtContact(At(3, 1), Ep(2)), verified: true);
        Assert.Equal(Ep(1), table.Find(At(3, 1))!.EndPoint);
    }

    [Fact]
    public void FullBucket_WithAQuestionableUnverifiedNode_GivesWayToAVerifiedOne()
    {
        RoutingTable table = Table();
        table.Responded(new DhtContact(At(0, 0), Ep(0)), verified: false);
        for (int i = 1; i < 8; i++)
        {
            table.Responded(new DhtContact(At(0, i), Ep(i)), verified: true);
        }

        _time.Advance(RoutingTable.GoodFor);
        table.Responded(new DhtContact(At(0, 8), Ep(8)), verified: true);
        Assert.Null(table.Find(At(0, 0)));
        Assert.NotNull(table.Find(At(0, 8)));
    }

    [Fact]
    public void NodeState_GoesQuestionableAfter15MinutesAndGoodAgainOnAQuery()
    {
        RoutingTable table = Table();
        table.Responded(new DhtContact(At(5, 1), Ep(1)), verified: true);
        Assert.Equal(1, table.CountStates().Good);
        _time.Advance(RoutingTable.GoodFor);
        Assert.Equal(1, table.CountStates().Questionable);
        Assert.Single(table.QuestionableToPing());
        table.Queried(At(5, 1), Ep(1));
        Assert.Equal(1, table.CountStates().Good);
    }

    [Fact]
    public void Closest_ReturnsNodesInXorOrder()
    {
        RoutingTable table = Table();
        for (int i = 0; i < 6; i++)
        {
            table.Responded(new DhtContact(At(i * 10, i), Ep(i)), verified: true);
        }

        NodeId target = At(50, 5);
        List<DhtContact> closest = table.Closest(target, 3);
        Assert.Equal(3, closest.Count);
        Assert.Equal(target, closest[0].Id);
        Assert.True(target.CompareDistance(closest[1].Id, closest[2].Id) < 0);
    }

    [Fact]
    public void StaleBucketTargets_AfterFifteenMinutes_FallInTheirBuckets()
    {
        RoutingTable table = Table();
        for (int i = 0; i < 8; i++)
        {
            table.Responded(new DhtContact(At(0, i), Ep(i)), verified: true);
            table.Responded(new DhtContact(At(1, i), Ep(20 + i)), verified: true);
            table.Responded(new DhtContact(At(2, i), Ep(40 + i)), verified: true);
        }

        Assert.Empty(table.StaleBucketTargets(RoutingTable.GoodFor, new Random(1)));
        _time.Advance(RoutingTable.GoodFor);
        List<NodeId> targets = table.StaleBucketTargets(RoutingTable.GoodFor, new Random(1));
        Assert.Equal(table.BucketCount, targets.Count);
        for (int i = 0; i < targets.Count - 1; i++)
        {
            Assert.Equal(i, Own.CommonPrefixLength(targets[i]));
        }

        Assert.True(Own.CommonPrefixLength(targets[^1]) >= targets.Count - 1);
    }
}
