using System.Diagnostics.Metrics;
using System.IO.Pipelines;
using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Libp2p;
using PeerNet.Metainfo;
using PeerNet.Transport;
using static PeerNet.Engine.Tests.Transport.TransportTestKit;

namespace PeerNet.Engine.Tests.Node;

/// <summary>The node's one TCP port takes libp2p (multistream, then Noise) beside BitTorrent and MSE, on real loopback sockets.</summary>
public sealed class Libp2pPortTests
{
    private static Task<PeerNetNode> StartAsync(EncryptionPolicy policy, IMeterFactory? meters = null) =>
        PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Encryption = new() { Policy = policy } },
            meterFactory: meters, cancellationToken: Ct).WaitAsync(TestTimeout, Ct);

    /// <summary>Echoes what the connection sends until it closes.</summary>
    private static async Task EchoAsync(IDuplexConnection connection)
    {
        await using IDuplexConnection _ = connection;
        while (true)
        {
            ReadResult result = await connection.Input.ReadAsync(Ct);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                await connection.Output.WriteAsync(segment, Ct);
            }

            connection.Input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    [Fact]
    public async Task Node_AcceptsALibp2pDial_TheHookSeesTheDialer_AndDataRoundTrips()
    {
        using var counts = new HandshakeCounts("peernet.libp2p.handshakes");
        await using PeerNetNode node = await StartAsync(EncryptionPolicy.Enabled, counts);
        Assert.Equal(["bittorrent", "libp2p", "mse"], node.Session.Router.Protocols);
        var seen = new TaskCompletionSource<Libp2pPeerId>(TaskCreationOptions.RunContinuationsAsynchronously);
        var echoes = new List<Task>();
        node.Libp2pConnectionHandler = (secured, _) =>
        {
            seen.TrySetResult(secured.RemotePeer);
            echoes.Add(Task.Run(() => EchoAsync(secured.Connection), Ct));
            return Task.CompletedTask;
        };

        await using var transport = new TcpTransport();
        using NodeIdentity dialer = NodeIdentity.CreateEphemeral();
        IDuplexConnection raw = await transport.ConnectAsync(new IPEndPoint(IPAddress.Loopback, node.ListenPort), Ct).AsTask().WaitAsync(TestTimeout, Ct);
        SecuredLibp2pConnection secured = await Libp2pSecurity.SecureOutboundAsync(raw, dialer, node.Identity.PeerId, Ct).WaitAsync(TestTimeout, Ct);
        await using IDuplexConnection connection = secured.Connection;
        Assert.Equal(node.Identity.PeerId, secured.RemotePeer);
        Assert.Equal(dialer.PeerId, await seen.Task.WaitAsync(TestTimeout, Ct));

        const long total = 1_000_000;
        await Task.WhenAll(WriteStreamAsync(connection.Output, total, seed: 9, chunk: 50_000), ReadStreamAsync(connection.Input, total, seed: 9)).WaitAsync(TestTimeout, Ct);
        Assert.Equal(1, counts.Counts.GetValueOrDefault("in:ok"));

        // Dialling the node as someone else fails on our side, before we show who we are.
        using NodeIdentity other = NodeIdentity.CreateEphemeral();
        IDuplexConnection wrong = await transport.ConnectAsync(new IPEndPoint(IPAddress.Loopback, node.ListenPort), Ct).AsTask().WaitAsync(TestTimeout, Ct);
        await using (wrong)
        {
            var e = await Assert.ThrowsAsync<Libp2pUpgradeException>(() => Libp2pSecurity.SecureOutboundAsync(wrong, dialer, other.PeerId, Ct).WaitAsync(TestTimeout, Ct));
            Assert.Equal("peer_id_mismatch", e.Reason);
        }

        // The node counts the upgrade it could not finish.
        await WaitUntilAsync(() => counts.Counts.GetValueOrDefault("in:closed") == 1, "the failed upgrade counted");
        await connection.Output.CompleteAsync();
        await Task.WhenAll(echoes).WaitAsync(TestTimeout, Ct);
    }

    [Fact]
    public async Task Libp2pHandshakes_HoldThePendingHandshakeSlots_AsEveryHandshakeDoes()
    {
        using var counts = new HandshakeCounts("peernet.libp2p.handshakes");
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false },
            new TcpTransport(), null, counts, TimeProvider.System, Ct,
            configure: o => o with { MaxPendingHandshakes = 1 }).WaitAsync(TestTimeout, Ct);
        await using var transport = new TcpTransport();
        var endPoint = new IPEndPoint(IPAddress.Loopback, node.ListenPort);
        using NodeIdentity dialer = NodeIdentity.CreateEphemeral();

        // A dialer that agrees on /noise, then says nothing: its handshake holds the one slot.
        IDuplexConnection stalled = await transport.ConnectAsync(endPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        var opening = new System.Buffers.ArrayBufferWriter<byte>();
        new MultistreamDialer([Libp2pNoiseHandshake.ProtocolId]).Start(opening);
        await WriteAsync(stalled.Output, opening.WrittenSpan.ToArray());
        await ReadExactlyAsync(stalled.Input, opening.WrittenCount).WaitAsync(TestTimeout, Ct); // the listener's echo

        // Another dialer is turned away at once: reset while it connects, or closed before the upgrade ends.
        IDuplexConnection? refused = null;
        try
        {
            refused = await transport.ConnectAsync(endPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.ConnectionReset)
        {
        }

        if (refused is not null)
        {
            await using (refused)
            {
                var e = await Assert.ThrowsAsync<Libp2pUpgradeException>(() => Libp2pSecurity.SecureOutboundAsync(refused, dialer, node.Identity.PeerId, Ct).WaitAsync(TestTimeout, Ct));
                Assert.Equal("closed", e.Reason);
            }
        }

        // Once the stalled one leaves (counted), the slot is free again.
        await stalled.DisposeAsync();
        await WaitUntilAsync(() => counts.Counts.GetValueOrDefault("in:closed") == 1, "the stalled upgrade counted as closed");
        // The count is taken as the upgrade fails; the slot is released a moment later, once the router returns.
        await WaitUntilAsync(() => node.Session.PendingHandshakeCount == 0, "the stalled upgrade's slot released");
        IDuplexConnection raw = await transport.ConnectAsync(endPoint, Ct).AsTask().WaitAsync(TestTimeout, Ct);
        SecuredLibp2pConnection secured = await Libp2pSecurity.SecureOutboundAsync(raw, dialer, node.Identity.PeerId, Ct).WaitAsync(TestTimeout, Ct);
        await secured.Connection.DisposeAsync();
        await WaitUntilAsync(() => counts.Counts.GetValueOrDefault("in:ok") == 1, "the later upgrade counted");
    }

    [Fact]
    public async Task Node_WithoutAHook_ClosesASecuredConnection()
    {
        await using PeerNetNode node = await StartAsync(EncryptionPolicy.Enabled);
        await using var transport = new TcpTransport();
        using NodeIdentity dialer = NodeIdentity.CreateEphemeral();
        IDuplexConnection raw = await transport.ConnectAsync(new IPEndPoint(IPAddress.Loopback, node.ListenPort), Ct).AsTask().WaitAsync(TestTimeout, Ct);
        SecuredLibp2pConnection secured = await Libp2pSecurity.SecureOutboundAsync(raw, dialer, node.Identity.PeerId, Ct).WaitAsync(TestTimeout, Ct);
        await using IDuplexConnection connection = secured.Connection;
        try
        {
            Assert.Equal(0, await ReadToEndAsync(connection.Input).WaitAsync(TestTimeout, Ct));
        }
        catch (IOException)
        {
            // A reset is a close too.
        }
    }

    [Fact]
    public async Task OnePort_ServesBitTorrentMseAndLibp2p_AtOnce()
    {
        await using var content = new NodeHarness();
        (TorrentMetainfo torrent, string data) = await content.CreateContentAsync(TorrentVersion.Hybrid, [400_000, 3]);
        await using PeerNetNode seeder = await StartAsync(EncryptionPolicy.Enabled);
        await NodeHarness.SeedAsync(seeder, torrent, data);
        var seen = new TaskCompletionSource<Libp2pPeerId>(TaskCreationOptions.RunContinuationsAsynchronously);
        seeder.Libp2pConnectionHandler = async (secured, _) =>
        {
            seen.TrySetResult(secured.RemotePeer);
            await secured.Connection.DisposeAsync();
        };

        // One leecher that must encrypt (MSE), one that must not (plain BitTorrent), and a libp2p dialer, together.
        await using PeerNetNode encrypted = await StartAsync(EncryptionPolicy.Forced);
        await using PeerNetNode plain = await StartAsync(EncryptionPolicy.Disabled);
        string toEncrypted = content.NewFolder("mse");
        string toPlain = content.NewFolder("plain");
        TorrentHandle a = await encrypted.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = toEncrypted, Peers = [seeder.LocalEndPoint] }, Ct);
        TorrentHandle b = await plain.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), new AddTorrentOptions { SavePath = toPlain, Peers = [seeder.LocalEndPoint] }, Ct);

        await using var transport = new TcpTransport();
        using NodeIdentity dialer = NodeIdentity.CreateEphemeral();
        IDuplexConnection raw = await transport.ConnectAsync(new IPEndPoint(IPAddress.Loopback, seeder.ListenPort), Ct).AsTask().WaitAsync(TestTimeout, Ct);
        SecuredLibp2pConnection secured = await Libp2pSecurity.SecureOutboundAsync(raw, dialer, seeder.Identity.PeerId, Ct).WaitAsync(TestTimeout, Ct);
        await secured.Connection.DisposeAsync();
        Assert.Equal(dialer.PeerId, await seen.Task.WaitAsync(TestTimeout, Ct));

        await NodeHarness.WaitCompletedAsync(a);
        await NodeHarness.WaitCompletedAsync(b);
        SwarmHarness.AssertSameFiles(torrent, data, toEncrypted);
        SwarmHarness.AssertSameFiles(torrent, data, toPlain);
        Assert.Equal(0, seeder.Session.Router.UnroutedCount(UnroutedReason.Unknown));
    }
}
