using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using PeerNet.Libp2p;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// One PeerNet node, one TCP port, both worlds at once: libtorrent downloads a torrent the node seeds while two
/// js-libp2p 3 peers (libp2p-js/peer.mjs) talk libp2p to the same port. js 1 dials the node, the node dials js 2;
/// ping and identify each way, a Kademlia lookup and provider records across PeerNet and js, and gossipsub messages
/// both ways on a shared topic. The torrent's upload is capped while the libp2p part runs, so the download is
/// honestly in progress all along (checked before and after), then the cap is lifted and libtorrent must finish with
/// every byte identical.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class OnePortLibp2pAndBitTorrentInteropTests
{
    private const string Topic = "peernet-one-port";

    /// <summary>16 MiB behind <see cref="SlowUpload"/> would take about a minute: longer than the libp2p part, by far.</summary>
    private const long ContentSize = 16 * 1024 * 1024;

    /// <summary>The torrent's upload cap while js-libp2p talks to the node (bytes per second).</summary>
    private const long SlowUpload = 256 * 1024;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>libtorrent's own bound on the download (the cap alone would need about 64 s).</summary>
    private static readonly TimeSpan DownloadTimeout = TimeSpan.FromSeconds(180);

    /// <summary>Extra time for libtorrent's final line, beyond its own bound.</summary>
    private static readonly TimeSpan ReportSlack = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 300_000)]
    public async Task JsLibp2p_OnTheSeedersPort_WhileLibtorrentDownloads_DialsPingsIdentifiesLooksUpAndGossipsBothWays()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ToolInfo js = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("one-port-libp2p-bt");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, ContentSize, ct);

        // The node seeds the torrent, its upload capped; libtorrent downloads from the node's one port.
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct);
        TorrentHandle seeded = await node.AddTorrentAsync(
            TorrentSource.FromBytes(await File.ReadAllBytesAsync(torrent.TorrentPath, Ct)),
            new AddTorrentOptions { SavePath = torrent.SourceParent, ReadOnly = true, UploadRateLimit = SlowUpload },
            Ct);
        Assert.Equal(TorrentState.Seeding, seeded.GetStatus().State);
        string nodeAddress = node.Libp2p.ListenAddresses.Single().ToString();
        Assert.Equal($"/ip4/127.0.0.1/tcp/{node.ListenPort}/p2p/{node.Identity.PeerId}", nodeAddress);
        SwarmTest.Log(clock, $"the node seeds {torrent.TotalSize} bytes and speaks libp2p on port {node.ListenPort}");

        string target = temp.Combine("lt-dl");
        await using LibtorrentProcess libtorrent = await LibtorrentProcess.StartDownloadAsync(torrent.TorrentPath, target, [node.ListenPort], DownloadTimeout, Ct);
        LtStatus started = await libtorrent.WaitForStatusAsync(s => s.TotalPayloadDownload > 0, Timeout, Ct);
        Assert.False(started.IsSeeding, $"libtorrent finished before libp2p began: {started}");
        SwarmTest.Log(clock, $"libtorrent is downloading from the node: {started.TotalPayloadDownload} bytes so far");

        await using JsLibp2pPeer js1 = await JsLibp2pPeer.StartAsync(js, Ct);
        await using JsLibp2pPeer js2 = await JsLibp2pPeer.StartAsync(js, Ct);
        Libp2pPeerId js1Id = Libp2pPeerId.Parse(js1.PeerId);
        Libp2pPeerId js2Id = Libp2pPeerId.Parse(js2.PeerId);
        string nodeId = node.Identity.PeerId.ToString();
        LtStatus before = libtorrent.LastStatus!; // printed before any libp2p connection to the node

        // js 1 -> PeerNet, on the port libtorrent downloads from: dial, ping and identify each way.
        JsonNode dialled = await js1.RequestAsync(new JsonObject { ["cmd"] = "dial", ["addr"] = nodeAddress }, Ct);
        Assert.Equal(nodeId, (string?)dialled["peerId"]);
        Assert.Contains($"/tcp/{node.ListenPort}", (string?)dialled["remoteAddr"], StringComparison.Ordinal);
        JsonNode ping = await js1.RequestAsync(new JsonObject { ["cmd"] = "ping", ["addr"] = nodeAddress }, Ct);
        Assert.True((double)ping["rttMs"]! >= 0);
        JsonNode identified = await js1.WaitForEventAsync("identify", e => (string?)e["peerId"] == nodeId, Timeout, Ct);
        Assert.StartsWith("peernet/", (string?)identified["agentVersion"], StringComparison.Ordinal);
        Assert.Contains(nodeAddress, identified["listenAddrs"]!.AsArray().Select(a => (string?)a));
        Libp2pPeerInfo js1AtNode = await WaitForPeerAsync(node, js1Id);
        Assert.False(js1AtNode.Outbound);
        Assert.StartsWith("js-libp2p/", js1AtNode.AgentVersion, StringComparison.Ordinal);
        Assert.True(await node.Libp2p.PingAsync(js1Id, Ct).WaitAsync(Timeout, Ct) > TimeSpan.Zero);

        // PeerNet -> js 2: dial, ping and identify each way.
        Libp2pPeerInfo js2AtNode = await node.Libp2p.ConnectAsync(Multiaddr.Parse(js2.Addresses[0]), Ct).WaitAsync(Timeout, Ct);
        Assert.True(js2AtNode.Outbound);
        Assert.StartsWith("js-libp2p/", js2AtNode.AgentVersion, StringComparison.Ordinal);
        Assert.True(await node.Libp2p.PingAsync(js2Id, Ct).WaitAsync(Timeout, Ct) > TimeSpan.Zero);
        await js2.WaitForEventAsync("identify", e => (string?)e["peerId"] == nodeId, Timeout, Ct);
        JsonNode pingBack = await js2.RequestAsync(new JsonObject { ["cmd"] = "ping", ["peer"] = nodeId }, Ct);
        Assert.True((double)pingBack["rttMs"]! >= 0);
        SwarmTest.Log(clock, "js 1 dialled the node, the node dialled js 2; ping and identify both ways");

        // Kademlia across the node: js 1 and js 2 know only the node.
        await Libp2pDhtInteropTests.WaitForAsync(() => Task.FromResult(node.Libp2p.Dht.RoutingTable.Contains(js1Id) && node.Libp2p.Dht.RoutingTable.Contains(js2Id)), "both js peers in the node's table");
        await Libp2pDhtInteropTests.WaitForAsync(async () => (await Libp2pDhtInteropTests.RoutingTableAsync(js1)).Contains(nodeId), "the node in js 1's table");
        await Libp2pDhtInteropTests.WaitForAsync(async () => (await Libp2pDhtInteropTests.RoutingTableAsync(js2)).Contains(nodeId), "the node in js 2's table");
        JsonNode found = await js1.RequestAsync(new JsonObject { ["cmd"] = "findPeer", ["peer"] = js2.PeerId }, Ct, Timeout);
        Assert.Equal(js2.PeerId, (string?)found["peerId"]);
        Assert.Contains(found["addrs"]!.AsArray(), a => js2.Addresses[0].StartsWith((string)a! + "/", StringComparison.Ordinal));

        await js2.RequestAsync(new JsonObject { ["cmd"] = "provide", ["key"] = "provided by js on the shared port" }, Ct, Timeout);
        Libp2pPeerInfo jsProvider = Assert.Single(await Libp2pDhtInteropTests.FindProvidersAsync(node, Libp2pDhtInteropTests.Key("provided by js on the shared port")));
        Assert.Equal(js2Id, jsProvider.PeerId);
        int sent = await node.Libp2p.Dht.ProvideAsync(Libp2pDhtInteropTests.Key("provided by PeerNet on the shared port"), Ct).WaitAsync(Timeout, Ct);
        Assert.True(sent >= 2, $"ADD_PROVIDER reached {sent} peers of 2");
        foreach (JsLibp2pPeer peer in new[] { js1, js2 })
        {
            JsonNode answer = await peer.RequestAsync(new JsonObject { ["cmd"] = "findProviders", ["key"] = "provided by PeerNet on the shared port", ["first"] = true }, Ct, Timeout);
            JsonNode provider = Assert.Single(answer["providers"]!.AsArray())!;
            Assert.Equal(nodeId, (string?)provider["peerId"]);
            Assert.Contains($"/ip4/127.0.0.1/tcp/{node.ListenPort}", provider["addrs"]!.AsArray().Select(a => (string?)a));
        }

        SwarmTest.Log(clock, "Kademlia: js 1 found js 2 through the node; provider records found both ways");

        // gossipsub on a shared topic: the node's messages reach both js peers, theirs reach the node.
        using PubsubSubscription subscription = node.Libp2p.Pubsub.Subscribe(Topic);
        await js1.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = Topic }, Ct);
        await js2.RequestAsync(new JsonObject { ["cmd"] = "subscribe", ["topic"] = Topic }, Ct);
        await GossipsubInteropTests.WaitForMeshAsync(node, js1, [js1Id, js2Id], [nodeId], Topic);
        await GossipsubInteropTests.WaitForMeshAsync(node, js2, [js1Id, js2Id], [nodeId], Topic);

        await node.Libp2p.Pubsub.PublishAsync(Topic, Encoding.UTF8.GetBytes("from the node"), Ct);
        foreach (JsLibp2pPeer peer in new[] { js1, js2 })
        {
            JsonNode message = await peer.WaitForEventAsync("message", e => (string?)e["data"] == "from the node", Timeout, Ct);
            Assert.Equal(nodeId, (string?)message["from"]);
        }

        foreach ((JsLibp2pPeer peer, string text) in new[] { (js1, "from js 1"), (js2, "from js 2") })
        {
            await peer.RequestAsync(new JsonObject { ["cmd"] = "publish", ["topic"] = Topic, ["data"] = text }, Ct);
            PubsubMessage received = await subscription.Messages.ReadAsync(Ct).AsTask().WaitAsync(Timeout, Ct);
            Assert.Equal(text, Encoding.UTF8.GetString(received.Data.Span));
            Assert.Equal(peer.PeerId, received.From.ToString());
        }

        await js2.WaitForEventAsync("message", e => (string?)e["data"] == "from js 1", Timeout, Ct);
        await js1.WaitForEventAsync("message", e => (string?)e["data"] == "from js 2", Timeout, Ct);
        SwarmTest.Log(clock, "gossipsub: messages both ways between the node and each js peer");

        // All the while, libtorrent kept downloading over the same port, and it is not done yet: its first status line
        // printed after the libp2p part still shows pieces missing, and more bytes than the last one before it.
        LtStatus after = await libtorrent.WaitForNextStatusAsync(Timeout, Ct);
        Assert.False(libtorrent.HasFinished, $"libtorrent finished during the libp2p part: the cap did not hold.\n{libtorrent.Process.Describe()}");
        Assert.False(after.IsSeeding);
        Assert.True(after.TotalPayloadDownload > before.TotalPayloadDownload, $"libtorrent received nothing during the libp2p part: {before} then {after}");
        Assert.True(after.TotalPayloadDownload < torrent.TotalSize, $"{after}");
        Assert.Equal(1, after.NumPeers);
        SwarmTest.Log(clock, $"libtorrent received {after.TotalPayloadDownload - before.TotalPayloadDownload} bytes during the libp2p part ({after.Progress:P0} done)");

        // Lift the cap: libtorrent completes, byte for byte, and the libp2p links are still up.
        seeded.SetRateLimits(0, 0);
        LtDone done = await libtorrent.WaitForDoneAsync(DownloadTimeout + ReportSlack, Ct);
        Assert.Equal(torrent.PieceCount, done.PiecesHave);
        SwarmContent.AssertIdentical(torrent.ContentPath, torrent.ContentIn(target));
        Assert.True(await node.Libp2p.PingAsync(js1Id, Ct).WaitAsync(Timeout, Ct) > TimeSpan.Zero);
        Assert.True(await node.Libp2p.PingAsync(js2Id, Ct).WaitAsync(Timeout, Ct) > TimeSpan.Zero);
        SwarmTest.Log(clock, $"libtorrent complete and identical ({done.TotalPayloadDownload} bytes); both js peers still answer pings");
    }

    private static async Task<Libp2pPeerInfo> WaitForPeerAsync(PeerNetNode node, Libp2pPeerId peer)
    {
        Libp2pPeerInfo? info = null;
        await Libp2pDhtInteropTests.WaitForAsync(() => Task.FromResult((info = node.Libp2p.FindPeer(peer)) is { AgentVersion: not null }), $"the node's identify of {peer}");
        return info!;
    }
}
