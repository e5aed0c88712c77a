using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

/// <summary>How many requests a peer is kept busy with, and when its queue is topped up.</summary>
public sealed class RequestSchedulerTests
{
    private const int Block = 16 * 1024;

    [Fact]
    public void TargetDepth_RateUnknown_SlowStartDepth()
        => Assert.Equal(RequestScheduler.MinRequestDepth, RequestScheduler.TargetDepth(0, peerRequestQueue: 250, maxRequestsPerPeer: 500));

    [Fact]
    public void TargetDepth_MeasuredRate_OneSecondOfBlocksOnTop()
        => Assert.Equal(RequestScheduler.MinRequestDepth + 64, RequestScheduler.TargetDepth(64 * Block, peerRequestQueue: 250, maxRequestsPerPeer: 500));

    [Theory]
    [InlineData(40, 500, 40)]  // the peer's reqq
    [InlineData(250, 30, 30)]  // our own cap
    [InlineData(5, 500, 5)]    // below even the slow-start depth
    public void TargetDepth_FastPeer_CappedByTheSmallerQueue(int peerRequestQueue, int maxRequestsPerPeer, int expected)
        => Assert.Equal(expected, RequestScheduler.TargetDepth(1e9, peerRequestQueue, maxRequestsPerPeer));

    [Fact]
    public void TargetDepth_AbsurdRate_DoesNotOverflow()
        => Assert.Equal(2000, RequestScheduler.TargetDepth(double.MaxValue, 2000, int.MaxValue));

    [Theory]
    [InlineData(80, 0, 80)]   // nothing in flight: fill the whole queue
    [InlineData(80, 70, 10)]  // a tenth answered (at least an eighth): top up
    [InlineData(80, 71, 0)]   // less than an eighth answered: wait for a batch
    [InlineData(80, 80, 0)]   // full
    [InlineData(80, 90, 0)]   // over (the depth fell with the rate)
    [InlineData(4, 3, 1)]     // a queue too short to batch: every answer tops it up
    public void ToRequest_TopsUpInBatches(int depth, int outstanding, int expected)
        => Assert.Equal(expected, RequestScheduler.ToRequest(depth, outstanding));
}
