using Microsoft.Extensions.Time.Testing;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.Swarm;

public sealed class RateMeterTests
{
    [Fact]
    public void YoungMeter_SteadyRate_ReadsThatRate_NotAFractionOfIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var meter = new RateMeter(time);
        for (int i = 0; i < 2; i++)
        {
            meter.Add(1000);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.InRange(meter.BytesPerSecond, 950, 1050); // 2,000 bytes over its 2 s of life
    }

    [Fact]
    public void OldMeter_AveragesOverItsWindow_AndForgetsOldBytes()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var meter = new RateMeter(time);
        for (int i = 0; i < 10; i++)
        {
            meter.Add(1000);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.InRange(meter.BytesPerSecond, 950, 1050);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(0, meter.BytesPerSecond);
        Assert.Equal(10_000, meter.Total);

        meter.Add(4000); // after a quiet spell (read without the lock), bytes count again
        Assert.InRange(meter.BytesPerSecond, 800, 1000); // 4,000 bytes over a window of 4 s and a part
        Assert.Equal(0, new RateMeter(time).BytesPerSecond);
    }
}
