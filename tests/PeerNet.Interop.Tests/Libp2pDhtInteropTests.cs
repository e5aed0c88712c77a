using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using PeerNet.Libp2p;

namespace PeerNet.Interop.Tests;

/// <summary>
/// The libp2p Kademlia DHT (<c>/ipfs/kad/1.0.0</c>) in a mixed network of two PeerNet nodes and two js-libp2p 3 peers
/// (@libp2p/kad-dht 16, libp2p-js/peer.mjs) on loopback, linked as a chain PeerNet 1 - js 1 - PeerNet 2 - js 2 so that
/// lookups must cross both implementations: peers found, providers announced and found, closest peers and public-key
/// records, each way.
/// </summary>
public sealed class Libp2pDhtInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 300_000)]
    public async Task MixedNetwork_LookupsProvidersAndRecords_CrossBothImplementations()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        ToolInfo tool = ReferenceTools.Require(ReferenceTool.JsLibp2p);
        ct.ThrowIfCancellationRequested();
        await using PeerNetNode p1 = await StartNodeAsync();
        await using PeerNetNode p2 = await StartNodeAsync();
        await using JsLibp2pPeer js1 = await JsLibp2pPeer.StartAsync(tool, Ct);
        await using JsLibp2pPeer js2 = await JsLibp2pPeer.StartAsync(tool, Ct);
        Libp2pPeerId js1Id = Libp2pPeerId.Parse(js1.PeerId);
        Libp2pPeerId js2Id = Libp2pPeerId.Parse(js2.PeerId);

        // The chain: PeerNet 1 - js 1 - PeerNet 2 - js 2.
        await p1.Libp2p.ConnectAsync(Multiaddr.Parse(js1.Addresses[0]), Ct).WaitAsync(Timeout, Ct);
        await p2.Libp2p.ConnectAsync(Multiaddr.Parse(js1.Addresses[0]), Ct).WaitAsync(Timeout, Ct);
        await p2.Libp2p.ConnectAsync(Multiaddr.Parse(js2.Addresses[0]), Ct).WaitAsync(Timeout, Ct);

        // Each side takes the other into its routing table: PeerNet from js's identify, js once it pinged PeerNet.
        await WaitForAsync(() => Task.FromResult(p1.Libp2p.Dht.RoutingTable.Contains(js1Id)), "js 1 in PeerNet 1's table");
        await WaitForAsync(() => Task.FromResult(p2.Libp2p.Dht.RoutingTableSize == 2), "js 1 and js 2 in PeerNet 2's table");
        await WaitForAsync(async () => (await RoutingTableAsync(js1)).IsSupersetOf([p1.Identity.PeerId.ToString(), p2.Identity.PeerId.ToString()]), "both PeerNet nodes in js 1's table");
        await WaitForAsync(async () => (await RoutingTableAsync(js2)).Contains(p2.Identity.PeerId.ToString()), "PeerNet 2 in js 2's table");

        // PeerNet 1 finds js 2: through js 1 (which names PeerNet 2) and PeerNet 2 (which names js 2).
        Libp2pPeerInfo? found = await p1.Libp2p.Dht.FindPeerAsync(js2Id, Ct).WaitAsync(Timeout, Ct);
        Assert.NotNull(found);
        Assert.Contains(found.ListenAddresses, a => js2.Addresses[0].StartsWith(a.ToString() + "/", StringComparison.Ordinal));

        // js 2 finds PeerNet 1 through PeerNet 2.
        JsonNode jsFound = await js2.RequestAsync(new JsonObject { ["cmd"] = "findPeer", ["peer"] = p1.Identity.PeerId.ToString() }, Ct);
        Assert.Equal(p1.Identity.PeerId.ToString(), (string?)jsFound["peerId"]);
        Assert.Contains($"/ip4/127.0.0.1/tcp/{p1.ListenPort}", jsFound["addrs"]!.AsArray().Select(a => (string?)a));

        // js 2 provides a key (a CIDv1 of the text; the DHT key is its multihash); PeerNet 1 finds js 2 as its provider.
        await js2.RequestAsync(new JsonObject { ["cmd"] = "provide", ["key"] = "provided by js" }, Ct, Timeout);
        Libp2pPeerInfo jsProvider = Assert.Single(await FindProvidersAsync(p1, Key("provided by js")));
        Assert.Equal(js2Id, jsProvider.PeerId);
        Assert.NotEmpty(jsProvider.ListenAddresses);

        // PeerNet 1 provides one; both js peers find it.
        int sent = await p1.Libp2p.Dht.ProvideAsync(Key("provided by PeerNet"), Ct).WaitAsync(Timeout, Ct);
        Assert.True(sent >= 3, $"ADD_PROVIDER reached {sent} peers of 3");
        foreach (JsLibp2pPeer js in new[] { js1, js2 })
        {
            JsonNode answer = await js.RequestAsync(new JsonObject { ["cmd"] = "findProviders", ["key"] = "provided by PeerNet", ["first"] = true }, Ct, Timeout);
            JsonNode provider = Assert.Single(answer["providers"]!.AsArray())!;
            Assert.Equal(p1.Identity.PeerId.ToString(), (string?)provider["peerId"]);
            Assert.Contains($"/ip4/127.0.0.1/tcp/{p1.ListenPort}", provider["addrs"]!.AsArray().Select(a => (string?)a));
        }

        // Closest peers: PeerNet's lookup reaches every peer; js's takes PeerNet's answers.
        IReadOnlyList<Libp2pPeerId> closest = await p1.Libp2p.Dht.GetClosestPeersAsync(Encoding.UTF8.GetBytes("near here"), Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(new[] { js1Id, js2Id, p2.Identity.PeerId }.ToHashSet(), closest.ToHashSet());
        JsonNode jsClosest = await js2.RequestAsync(new JsonObject { ["cmd"] = "closestPeers", ["key"] = "near here" }, Ct, Timeout);
        string?[] jsPeers = [.. jsClosest["peers"]!.AsArray().Select(p => (string?)p)];
        Assert.Contains(p2.Identity.PeerId.ToString(), jsPeers);
        Assert.Contains(p1.Identity.PeerId.ToString(), jsPeers);

        // Public-key records (/pk/, the namespace both validate): put by PeerNet, got by js; put by js, got by PeerNet.
        (byte[] key1, byte[] value1) = PublicKeyRecord();
        Assert.True(await p2.Libp2p.Dht.PutValueAsync(key1, value1, Ct).WaitAsync(Timeout, Ct) >= 1);
        JsonNode got = await js1.RequestAsync(new JsonObject { ["cmd"] = "getValue", ["keyHex"] = Convert.ToHexStringLower(key1) }, Ct, Timeout);
        Assert.Equal(Convert.ToHexStringLower(value1), (string?)got["valueHex"]);

        (byte[] key2, byte[] value2) = PublicKeyRecord();
        await js2.RequestAsync(new JsonObject { ["cmd"] = "putValue", ["keyHex"] = Convert.ToHexStringLower(key2), ["valueHex"] = Convert.ToHexStringLower(value2) }, Ct, Timeout);
        byte[]? value = await p1.Libp2p.Dht.GetValueAsync(key2, Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(value2, value);
    }

    /// <summary>The DHT key js uses for the CIDv1 (raw, SHA-256) of <paramref name="text"/> (peer.mjs's keyCid): its multihash.</summary>
    internal static byte[] Key(string text) => Libp2pDht.Sha256Multihash(Encoding.UTF8.GetBytes(text));

    /// <summary>A fresh RSA key's <c>/pk/</c> record: the key is <c>/pk/</c> and its peer ID's (SHA-256) multihash.</summary>
    private static (byte[] Key, byte[] Value) PublicKeyRecord()
    {
        using var rsa = RSA.Create(2048);
        byte[] spki = rsa.ExportSubjectPublicKeyInfo();
        // The libp2p PublicKey message: Type (1) = RSA (0), Data (2) = the PKIX DER.
        byte[] length = Varint(spki.Length);
        byte[] value = [0x08, 0x00, 0x12, .. length, .. spki];
        return ([.. "/pk/"u8, .. Libp2pPeerId.FromPublicKey(value).Multihash.Span], value);
    }

    private static byte[] Varint(int value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    internal static async Task<HashSet<string>> RoutingTableAsync(JsLibp2pPeer js)
    {
        JsonNode answer = await js.RequestAsync(new JsonObject { ["cmd"] = "routingTable" }, Ct);
        return [.. answer["peers"]!.AsArray().Select(p => (string)p!)];
    }

    private static Task<PeerNetNode> StartNodeAsync() => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
        cancellationToken: Ct);

    /// <summary>
    /// The providers <paramref name="node"/> finds for <paramref name="key"/>, asked again until it finds one. ADD_PROVIDER
    /// has no answer, so a js peer's provide returns once its messages are written, maybe before any peer has stored them.
    /// </summary>
    internal static async Task<IReadOnlyList<Libp2pPeerInfo>> FindProvidersAsync(PeerNetNode node, byte[] key)
    {
        IReadOnlyList<Libp2pPeerInfo> providers = [];
        await WaitForAsync(async () => (providers = await node.Libp2p.Dht.FindProvidersAsync(key, 5, Ct).WaitAsync(Timeout, Ct)).Count > 0, "a provider record found by the node");
        return providers;
    }

    internal static async Task WaitForAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Timeout);
        try
        {
            while (!await condition())
            {
                await Task.Delay(100, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{what} did not happen within {Timeout.TotalSeconds} s");
        }
    }
}
