using System.Buffers;
using System.Net;
using PeerNet.Engine.Tests.Hostile;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// BEP 55 ut_holepunch at the engine, over the in-memory network: a node relays a rendezvous between two connected
/// peers that speak it (a connect to each, naming the other), answers the four error cases with their codes, limits
/// rendezvous per peer, and closes a peer that sends a malformed message.
/// </summary>
public sealed class HolepunchTests
{
    private const byte FakeHolepunchId = 7;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Rendezvous_ToAnUnknownPeer_IsAnsweredNoSuchPeer()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer initiator = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        var unknown = IPEndPoint.Parse("203.0.113.9:7000");
        await initiator.SendAsync(Message(HolepunchMessageType.Rendezvous, unknown));
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Error, unknown, HolepunchError.NoSuchPeer), await ReceiveHolepunchAsync(initiator));
        Assert.Equal(1, setup.Session.Holepunch.ErrorsSent);
    }

    [Fact]
    public async Task Rendezvous_ToItself_IsAnsweredNoSelf()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer initiator = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        var self = IPEndPoint.Parse("198.51.100.1:6001"); // its address and the port it announced
        await initiator.SendAsync(Message(HolepunchMessageType.Rendezvous, self));
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Error, self, HolepunchError.NoSelf), await ReceiveHolepunchAsync(initiator));
    }

    [Fact]
    public async Task Rendezvous_ToAPeerWithoutHolepunch_IsAnsweredNoSupport()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer initiator = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        await using FakePeer target = await setup.ConnectAsync("198.51.100.2", 6002, holepunch: false);
        var endpoint = IPEndPoint.Parse("198.51.100.2:6002");
        Assert.Equal(PexFlags.None, await PexFlagsOfAsync(initiator, endpoint) & PexFlags.SupportsHolepunch);
        await initiator.SendAsync(Message(HolepunchMessageType.Rendezvous, endpoint));
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Error, endpoint, HolepunchError.NoSupport), await ReceiveHolepunchAsync(initiator));
    }

    [Fact]
    public async Task Rendezvous_ToAKnownPeerNotConnected_IsAnsweredNotConnected()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer initiator = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);

        // A peer the node knows (it was told of it by PEX) but cannot reach: nothing listens there.
        var known = IPEndPoint.Parse("203.0.113.20:7000");
        int before = setup.Swarm.KnownPeerCount;
        await initiator.SendAsync(FakePeer.Pex([known]));
        await SwarmHarness.WaitUntilAsync(() => setup.Swarm.KnownPeerCount > before);
        await initiator.SendAsync(Message(HolepunchMessageType.Rendezvous, known));
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Error, known, HolepunchError.NotConnected), await ReceiveHolepunchAsync(initiator));
    }

    [Fact]
    public async Task Rendezvous_BetweenTwoConnectedPeers_SendsEachAConnectNamingTheOther()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer initiator = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        await using FakePeer target = await setup.ConnectAsync("198.51.100.2", 6002, holepunch: true);

        // The node tells the initiator of the target by PEX, flagged uTP and holepunch: what the initiator would ask on.
        Assert.Equal(PexFlags.SupportsHolepunch | PexFlags.SupportsUtp, await PexFlagsOfAsync(initiator, IPEndPoint.Parse("198.51.100.2:6002")) & (PexFlags.SupportsHolepunch | PexFlags.SupportsUtp));
        await initiator.SendAsync(Message(HolepunchMessageType.Rendezvous, IPEndPoint.Parse("198.51.100.2:6002")));
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Connect, IPEndPoint.Parse("198.51.100.2:6002")), await ReceiveHolepunchAsync(initiator));
        Assert.Equal(new HolepunchMessage(HolepunchMessageType.Connect, IPEndPoint.Parse("198.51.100.1:6001")), await ReceiveHolepunchAsync(target));
        Assert.Equal(1, setup.Session.Holepunch.Relayed);
    }

    [Fact]
    public async Task Rendezvous_Flood_IsAnsweredUpToTheLimit_ThenDropped()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer initiator = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        const int Sent = TorrentSwarm.MaxRendezvousPerWindow * 3;
        for (int i = 0; i < Sent; i++)
        {
            await initiator.SendAsync(Message(HolepunchMessageType.Rendezvous, new IPEndPoint(IPAddress.Parse("203.0.113.9"), 7000 + i)));
        }

        await SwarmHarness.WaitUntilAsync(() => setup.Session.Holepunch.RendezvousReceived == Sent);
        Assert.Equal(TorrentSwarm.MaxRendezvousPerWindow, setup.Session.Holepunch.ErrorsSent);
        Assert.Equal(Sent - TorrentSwarm.MaxRendezvousPerWindow, setup.Session.Holepunch.RateLimited);
        for (int i = 0; i < TorrentSwarm.MaxRendezvousPerWindow; i++)
        {
            Assert.Equal(HolepunchError.NoSuchPeer, (await ReceiveHolepunchAsync(initiator)).Error);
        }
    }

    [Fact]
    public async Task Malformed_ClosesThePeer()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer initiator = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        var output = new ArrayBufferWriter<byte>();
        PeerMessageWriter.WriteExtended(output, TorrentSwarm.LocalHolepunchExtensionId, [0, 9, 1, 2, 3, 4, 0, 1]); // addr_type 9
        await initiator.SendAsync(output.WrittenMemory);
        await initiator.AssertClosedAsync(Wait);
    }

    [Fact]
    public async Task ExtensionHandshake_AdvertisesUtHolepunch_OnlyWhenOn()
    {
        await using var setup = await Setup.StartAsync();
        await using FakePeer peer = await setup.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        Assert.Equal(TorrentSwarm.LocalHolepunchExtensionId, setup.FirstHandshake!.GetMessageId(HolepunchMessage.ExtensionName));

        await using var off = await Setup.StartAsync(holepunch: false);
        await using FakePeer other = await off.ConnectAsync("198.51.100.1", 6001, holepunch: true);
        Assert.Equal(0, off.FirstHandshake!.GetMessageId(HolepunchMessage.ExtensionName));
    }

    private static byte[] Message(HolepunchMessageType type, IPEndPoint endpoint)
    {
        var output = new ArrayBufferWriter<byte>();
        new HolepunchMessage(type, endpoint).WriteMessage(output, TorrentSwarm.LocalHolepunchExtensionId);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Waits for the node's PEX message to <paramref name="peer"/> naming <paramref name="named"/> (the node has its extension handshake then) and returns its flags.</summary>
    private static async Task<PexFlags> PexFlagsOfAsync(FakePeer peer, IPEndPoint named)
    {
        PexFlags flags = PexFlags.None;
        await peer.ReceiveAsync(m =>
        {
            if (m.Id != PeerMessageId.Extended || m.Payload.Length == 0 || m.Payload[0] != (byte)'d'
                || !PexMessage.TryParse(new ReadOnlySequence<byte>(m.Payload), out PexMessage? pex, out _))
            {
                return false;
            }

            foreach (PexPeer p in pex.Added)
            {
                if (p.EndPoint.Equals(named))
                {
                    flags = p.Flags;
                    return true;
                }
            }

            return false;
        }, Wait);
        return flags;
    }

    private static async Task<HolepunchMessage> ReceiveHolepunchAsync(FakePeer peer)
    {
        RawMessage m = await peer.ReceiveAsync(IsHolepunch, Wait);
        Assert.True(HolepunchMessage.TryParse(m.Payload, out HolepunchMessage message, out HolepunchParseError error), error.Describe());
        return message;
    }

    // The node's extended messages to a fake: its extension handshake and PEX are bencoded dictionaries ('d'); a
    // ut_holepunch message starts with its msg_type, 0 to 2.
    private static bool IsHolepunch(RawMessage m) => m.Id == PeerMessageId.Extended && m.Payload.Length is >= 8 and <= HolepunchMessage.MaxLength && m.Payload[0] <= 2;

    private sealed class Setup : IAsyncDisposable
    {
        private SwarmHarness _harness = null!;

        public SwarmSession Session { get; private set; } = null!;

        public TorrentSwarm Swarm { get; private set; } = null!;

        private TorrentMetainfo _torrent = null!;

        /// <summary>The extension handshake the node sent the first fake.</summary>
        public ExtensionHandshake? FirstHandshake { get; private set; }

        public static async Task<Setup> StartAsync(bool holepunch = true)
        {
            var setup = new Setup { _harness = new SwarmHarness() };
            (setup._torrent, string content) = await setup._harness.CreateContentAsync(TorrentVersion.V1, [256 * 1024]);
            setup.Session = await setup._harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(IPAddress.Parse("10.0.7.1"), 6881), Holepunch = holepunch });
            setup.Swarm = await SwarmHarness.SeedAsync(setup.Session, setup._torrent, content);
            return setup;
        }

        /// <summary>A fake peer from <paramref name="address"/> announcing <paramref name="port"/>, with ut_holepunch or not; returns once the node's extension handshake arrived.</summary>
        public async Task<FakePeer> ConnectAsync(string address, int port, bool holepunch)
        {
            FakePeer peer = await FakePeer.ConnectAsync(_harness.Network, IPAddress.Parse(address), Session.LocalEndPoint!, _torrent.InfoHashes.WireHash);
            var messages = new Dictionary<string, byte> { [TorrentSwarm.PexExtensionName] = FakePeer.OurPexId };
            if (holepunch)
            {
                messages[HolepunchMessage.ExtensionName] = FakeHolepunchId;
            }

            var output = new ArrayBufferWriter<byte>();
            new ExtensionHandshake { ClientName = "FakePeer", ListenPort = port, Messages = messages }.WriteMessage(output);
            await peer.SendAsync(output.WrittenMemory);
            RawMessage handshake = await peer.ReceiveAsync(m => m.Id == PeerMessageId.Extended && m.Payload.Length > 0 && m.Payload[0] == (byte)'d', Wait);
            Assert.True(ExtensionHandshake.TryParse(new ReadOnlySequence<byte>(handshake.Payload), out ExtensionHandshake? theirs, out _));
            FirstHandshake ??= theirs;

            return peer;
        }

        public ValueTask DisposeAsync() => _harness.DisposeAsync();
    }
}
