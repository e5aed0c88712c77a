using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Transport;

public sealed class ConnectionGateTests
{
    [Fact]
    public void Defaults_EightHalfOpen_200Connections_50PerTorrent()
    {
        using var gate = new ConnectionGate();

        Assert.Equal(8, gate.MaxHalfOpen);
        Assert.Equal(200, gate.MaxConnections);
        Assert.Equal(50, gate.CreateGroup().MaxConnections);
    }

    [Fact]
    public void HalfOpen_TryAcquireUpToTheLimit_ReleaseFreesASlot()
    {
        using var gate = new ConnectionGate(maxHalfOpen: 2);

        Assert.True(gate.TryAcquireHalfOpen());
        Assert.True(gate.TryAcquireHalfOpen());
        Assert.False(gate.TryAcquireHalfOpen());
        Assert.Equal(2, gate.HalfOpen);
        gate.ReleaseHalfOpen();
        Assert.Equal(1, gate.HalfOpen);
        Assert.True(gate.TryAcquireHalfOpen());
    }

    [Fact]
    public async Task HalfOpen_WaitAsync_WaitsForARelease_AndCanBeCancelled()
    {
        using var gate = new ConnectionGate(maxHalfOpen: 1);
        Assert.True(gate.TryAcquireHalfOpen());

        Task waiting = gate.WaitHalfOpenAsync(Ct);
        using var cts = new CancellationTokenSource();
        Task cancelled = gate.WaitHalfOpenAsync(cts.Token);

        // The second waiter's cancellation is the event that proves the gate ran past the first: still no slot for it.
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TestTimeout, Ct));
        Assert.False(waiting.IsCompleted);
        gate.ReleaseHalfOpen();
        await waiting.WaitAsync(TestTimeout, Ct);
        Assert.Equal(1, gate.HalfOpen);
    }

    [Fact]
    public void HalfOpen_ReleaseWithoutAcquire_Throws()
    {
        using var gate = new ConnectionGate();

        Assert.Throws<InvalidOperationException>(gate.ReleaseHalfOpen);
    }

    [Fact]
    public void Connections_LimitedByTorrentAndByTotal_ReleaseGivesBackBoth()
    {
        using var gate = new ConnectionGate(maxConnections: 3);
        ConnectionGroup a = gate.CreateGroup(maxConnections: 2);
        ConnectionGroup b = gate.CreateGroup(maxConnections: 2);

        Assert.True(gate.TryAcquireConnection(a));
        Assert.True(gate.TryAcquireConnection(a));
        Assert.False(gate.TryAcquireConnection(a)); // The torrent is full.
        Assert.True(gate.TryAcquireConnection(b));
        Assert.False(gate.TryAcquireConnection(b)); // The node is full.
        Assert.False(gate.TryAcquireConnection());
        Assert.Equal((3, 2, 1), (gate.Connections, a.Count, b.Count));

        gate.ReleaseConnection(a);
        Assert.Equal((2, 1, 1), (gate.Connections, a.Count, b.Count));
        Assert.True(gate.TryAcquireConnection(b));
        Assert.Equal((3, 1, 2), (gate.Connections, a.Count, b.Count));
    }

    [Fact]
    public void Connections_ReleaseWithoutAcquire_OrAForeignGroup_Throws()
    {
        using var gate = new ConnectionGate();
        using var other = new ConnectionGate();
        ConnectionGroup group = gate.CreateGroup();

        Assert.Throws<InvalidOperationException>(() => gate.ReleaseConnection());
        Assert.True(gate.TryAcquireConnection());
        Assert.Throws<InvalidOperationException>(() => gate.ReleaseConnection(group));
        Assert.Throws<ArgumentException>(() => other.TryAcquireConnection(group));
    }

    [Fact]
    public async Task Connections_ManyThreads_NeverExceedTheLimits()
    {
        using var gate = new ConnectionGate(maxConnections: 10);
        ConnectionGroup[] groups = [gate.CreateGroup(4), gate.CreateGroup(4), gate.CreateGroup(4)];
        int violations = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                ConnectionGroup group = groups[(t + i) % groups.Length];
                if (gate.TryAcquireConnection(group))
                {
                    if (gate.Connections > 10 || group.Count > 4)
                    {
                        Interlocked.Increment(ref violations);
                    }

                    gate.ReleaseConnection(group);
                }
            }
        }, Ct))).WaitAsync(TestTimeout, Ct);

        Assert.Equal(0, violations);
        Assert.Equal(0, gate.Connections);
        Assert.All(groups, g => Assert.Equal(0, g.Count));
    }
}
