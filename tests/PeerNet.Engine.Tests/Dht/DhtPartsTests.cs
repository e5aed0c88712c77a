using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Dht;
using PeerNet.Discovery.Dht;

namespace PeerNet.Engine.Tests.Dht;

/// <summary>The node's small parts: write tokens, the peer store, the per-address rate limiter, the state file.</summary>
public sealed class DhtPartsTests
{
    private static readonly IPAddress A = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress B = IPAddress.Parse("10.0.0.2");
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void WriteToken_IsValidForItsAddressForOneRotationMore_ThenExpires()
    {
        var tokens = new WriteTokens(_time);
        byte[] token = tokens.Create(A);
        Assert.True(tokens.IsValid(token, A));
        Assert.False(tokens.IsValid(token, B));
        _time.Advance(WriteTokens.Rotation);
        Assert.True(tokens.IsValid(token, A));
        _time.Advance(WriteTokens.Rotation);
        Assert.False(tokens.IsValid(token, A));
    }

    [Fact]
    public void WriteToken_AfterALongSilence_IsNotAccepted()
    {
        var tokens = new WriteTokens(_time);
        byte[] token = tokens.Create(A);
        _time.Advance(WriteTokens.Rotation * 3);
        Assert.False(tokens.IsValid(token, A));
    }

    [Fact]
    public void PeerStore_IsBoundedAndExpires()
    {
        var store = new PeerStore(2, 3, TimeSpan.FromMinutes(30), _time);
        NodeId h1 = NodeId.Random(new Random(1)), h2 = NodeId.Random(new Random(2)), h3 = NodeId.Random(new Random(3));
        for (int i = 0; i < 5; i++)
        {
            store.Add(h1, new IPEndPoint(A, 1000 + i));
        }

        Assert.Equal(3, store.Get(h1, 100, new Random(0)).Count);
        Assert.Equal(2, store.Get(h1, 2, new Random(0)).Count);
        _time.Advance(TimeSpan.FromMinutes(1));
        store.Add(h2, new IPEndPoint(A, 1));
        store.Add(h3, new IPEndPoint(A, 1));
        Assert.Equal(2, store.InfoHashCount);
        Assert.Empty(store.Get(h1, 100, new Random(0)));
        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Empty(store.Get(h3, 100, new Random(0)));
        store.Expire();
        Assert.Equal(0, store.InfoHashCount);
    }

    [Fact]
    public void RateLimiter_RefusesPastTheBurst_ServesOthers_AndRefills()
    {
        var limiter = new SourceRateLimiter(10, 20, 100, _time);
        int allowed = 0;
        for (int i = 0; i < 100; i++)
        {
            allowed += limiter.TryTake(A) ? 1 : 0;
        }

        Assert.Equal(20, allowed);
        Assert.True(limiter.TryTake(B));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(limiter.TryTake(A));
    }

    [Fact]
    public void RateLimiter_TracksABoundedNumberOfSources()
    {
        var limiter = new SourceRateLimiter(10, 20, 50, _time);
        for (int i = 0; i < 1000; i++)
        {
            limiter.TryTake(new IPAddress(BitConverter.GetBytes(i)));
        }

        Assert.True(limiter.TrackedSources <= 50);
    }

    [Fact]
    public void State_SavedAndLoaded_KeepsIdAddressAndNodes()
    {
        string path = Path.Combine(Path.GetTempPath(), $"peernet-dht-{Guid.NewGuid():N}", "dht.state");
        try
        {
            var state = new DhtState(
                NodeId.Random(new Random(7)),
                IPAddress.Parse("203.0.113.5"),
                [new DhtContact(NodeId.Random(new Random(8)), new IPEndPoint(A, 6881)), new DhtContact(NodeId.Random(new Random(9)), new IPEndPoint(IPAddress.Parse("fd00::1"), 6882))]);
            state.Save(path);
            Assert.False(File.Exists(path + ".tmp"));
            DhtState? loaded = DhtState.Load(path);
            Assert.NotNull(loaded);
            Assert.Equal(state.Id, loaded.Id);
            Assert.Equal(state.ExternalAddress, loaded.ExternalAddress);
            Assert.Equal(state.Nodes, loaded.Nodes);

            File.WriteAllText(path, "garbage");
            Assert.Null(DhtState.Load(path));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }

    [Fact]
    public void State_Save_DoesNotWriteThroughALinkPlantedAtTheTemporaryName()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"peernet-dht-{Guid.NewGuid():N}");
        string victim = Path.Combine(Path.GetTempPath(), $"peernet-victim-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(folder);
            File.WriteAllText(victim, "keep");
            string path = Path.Combine(folder, "dht.state");
            File.CreateSymbolicLink(path + ".tmp", victim);
            var state = new DhtState(NodeId.Random(new Random(7)), null, []);

            Assert.ThrowsAny<IOException>(() => state.Save(path));

            Assert.Equal("keep", File.ReadAllText(victim));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
            File.Delete(victim);
        }
    }
}
