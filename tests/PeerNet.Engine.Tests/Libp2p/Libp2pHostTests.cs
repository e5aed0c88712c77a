using System.Buffers;
using PeerNet.Engine.Tests.Transport;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>Two libp2p hosts over an in-memory link standing in for a secured (Noise) connection.</summary>
public sealed class Libp2pHostTests
{
    private static readonly TimeSpan Timeout = TransportTestKit.TestTimeout;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed class Pair : IAsyncDisposable
    {
        public required NodeIdentity IdA { get; init; }

        public required NodeIdentity IdB { get; init; }

        public required Libp2pHost A { get; init; }

        public required Libp2pHost B { get; init; }

        public required Libp2pConnection AtoB { get; init; }

        public required Libp2pConnection BtoA { get; init; }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            IdA.Dispose();
            IdB.Dispose();
        }
    }

    private static async Task<Pair> ConnectAsync(Libp2pHostOptions? options = null, Libp2pPeerId? bClaimsToBe = null)
    {
        var idA = NodeIdentity.CreateEphemeral();
        var idB = NodeIdentity.CreateEphemeral();
        var a = new Libp2pHost(idA, options);
        var b = new Libp2pHost(idB, options);
        var (initiator, responder) = await YamuxSessionTests.ConnectAsync();
        Task<Libp2pConnection> dial = a.AddConnectionAsync(initiator, bClaimsToBe ?? idB.PeerId, initiator: true, Ct);
        Task<Libp2pConnection> accept = b.AddConnectionAsync(responder, idA.PeerId, initiator: false, Ct);
        return new Pair { IdA = idA, IdB = idB, A = a, B = b, AtoB = await dial.WaitAsync(Timeout, Ct), BtoA = await accept.WaitAsync(Timeout, Ct) };
    }

    [Fact]
    public async Task Identify_runs_both_ways_on_connect_and_fills_the_peer_stores()
    {
        var listen = Multiaddr.Parse("/ip4/127.0.3.9/tcp/4001");
        await using Pair p = await ConnectAsync(new Libp2pHostOptions { ListenAddrs = [listen] });
        Libp2pPeerRecord? bSeenByA = await p.AtoB.Identified.WaitAsync(Timeout, Ct);
        Libp2pPeerRecord? aSeenByB = await p.BtoA.Identified.WaitAsync(Timeout, Ct);
        Assert.NotNull(bSeenByA);
        Assert.NotNull(aSeenByB);
        Assert.Equal(p.IdB.PeerId, bSeenByA.PeerId);
        Assert.Contains(Libp2pHost.PingProtocolId, bSeenByA.Protocols);
        Assert.Contains(IdentifyMessage.PushProtocolId, aSeenByB.Protocols);
        Assert.Equal([listen], bSeenByA.ListenAddrs);
        Assert.Equal(IdentifyMessage.LibP2pProtocolVersion, bSeenByA.ProtocolVersion);
        Assert.StartsWith("peernet/", bSeenByA.AgentVersion, StringComparison.Ordinal);

        // B saw A at A's end of the link.
        Assert.Equal(Multiaddr.ForTcp(p.BtoA.RemoteEndPoint.Address, p.BtoA.RemoteEndPoint.Port), bSeenByA.ObservedAddr);
        Assert.Same(aSeenByB, p.B.Peers.Get(p.IdA.PeerId));
    }

    [Fact]
    public async Task Identify_refuses_a_public_key_that_is_not_the_peers()
    {
        using var someoneElse = NodeIdentity.CreateEphemeral();

        // A believes it dialled someoneElse, but the secured link's peer (B) identifies with its own key.
        await using Pair p = await ConnectAsync(bClaimsToBe: someoneElse.PeerId);
        Assert.Null(await p.AtoB.Identified.WaitAsync(Timeout, Ct));
        Assert.Contains("not " + someoneElse.PeerId, p.AtoB.IdentifyError, StringComparison.Ordinal);
        Assert.Null(p.A.Peers.Get(someoneElse.PeerId));
        Assert.Null(p.A.Peers.Get(p.IdB.PeerId));
    }

    [Fact]
    public async Task Connection_ready_follows_identify_and_closed_follows_the_end()
    {
        using var idA = NodeIdentity.CreateEphemeral();
        using var idB = NodeIdentity.CreateEphemeral();
        await using var a = new Libp2pHost(idA);
        await using var b = new Libp2pHost(idB);
        var ready = new TaskCompletionSource<(Libp2pConnection, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<Libp2pConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        b.ConnectionReady += _ => throw new InvalidOperationException("a failing handler must not hide the event from the next");
        b.ConnectionReady += c => ready.TrySetResult((c, c.Identified.IsCompleted));
        b.ConnectionClosed += c => closed.TrySetResult(c);

        var (initiator, responder) = await YamuxSessionTests.ConnectAsync();
        Task<Libp2pConnection> dial = a.AddConnectionAsync(initiator, idB.PeerId, initiator: true, Ct);
        Libp2pConnection atB = await b.AddConnectionAsync(responder, idA.PeerId, initiator: false, Ct).WaitAsync(Timeout, Ct);
        Libp2pConnection atA = await dial.WaitAsync(Timeout, Ct);

        (Libp2pConnection readied, bool identifiedBefore) = await ready.Task.WaitAsync(Timeout, Ct);
        Assert.Same(atB, readied);
        Assert.True(identifiedBefore);
        Assert.Equal(idA.PeerId, (await atB.Identified)?.PeerId);
        Assert.False(closed.Task.IsCompleted);

        await atA.Session.DisposeAsync();
        Assert.Same(atB, await closed.Task.WaitAsync(Timeout, Ct));
        Assert.DoesNotContain(atB, b.Connections);
    }

    [Fact]
    public async Task Ping_echoes_and_measures_the_round_trip()
    {
        await using Pair p = await ConnectAsync();
        TimeSpan rtt = await p.A.PingAsync(p.AtoB, Ct).WaitAsync(Timeout, Ct);
        Assert.True(rtt > TimeSpan.Zero && rtt < Timeout);
        Assert.True(await p.B.PingAsync(p.BtoA, Ct).WaitAsync(Timeout, Ct) > TimeSpan.Zero);
    }

    [Fact]
    public async Task Custom_protocols_are_negotiated_and_unknown_ones_refused()
    {
        await using Pair p = await ConnectAsync();
        p.B.SetHandler("/test/upper/1.0.0", async (stream, connection, ct) =>
        {
            var reader = new StreamReader(stream);
            string text = await reader.ReadToEndAsync(ct);
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text.ToUpperInvariant() + " from " + connection.RemotePeer), ct);
        });

        YamuxStream s = await p.A.OpenStreamAsync(p.AtoB, ["/test/upper/2.0.0", "/test/upper/1.0.0"], Ct).WaitAsync(Timeout, Ct);
        Assert.Equal("/test/upper/1.0.0", s.Protocol);
        await s.WriteAsync("hello"u8.ToArray(), Ct);
        s.CompleteWrites();
        string answer = await new StreamReader(s).ReadToEndAsync(Ct).WaitAsync(Timeout, Ct);
        Assert.Equal("HELLO from " + p.IdA.PeerId, answer);
        await s.DisposeAsync();

        IOException refused = await Assert.ThrowsAsync<IOException>(() => p.A.OpenStreamAsync(p.AtoB, ["/nope/1.0.0"], Ct).WaitAsync(Timeout, Ct));
        Assert.Contains("none of /nope/1.0.0", refused.Message, StringComparison.Ordinal);
        Assert.Null(p.AtoB.Session.CloseReason);
    }

    [Fact]
    public async Task Identify_push_tells_connected_peers_about_a_new_protocol()
    {
        await using Pair p = await ConnectAsync();
        await p.AtoB.Identified.WaitAsync(Timeout, Ct);
        Assert.NotNull(await p.BtoA.Identified.WaitAsync(Timeout, Ct));
        p.A.SetHandler("/test/new/1.0.0", (_, _, _) => Task.CompletedTask);
        Assert.Equal(1, await p.A.PushIdentifyAsync(Ct).WaitAsync(Timeout, Ct));
        await YamuxSessionTests.WaitUntilAsync(() => p.B.Peers.Get(p.IdA.PeerId)?.Protocols.Contains("/test/new/1.0.0") == true);
    }

    [Fact]
    public async Task Many_streams_of_a_protocol_run_concurrently_both_ways()
    {
        await using Pair p = await ConnectAsync();
        async Task PingManyAsync(Libp2pHost host, Libp2pConnection connection)
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => host.PingAsync(connection, Ct)));
        }

        await Task.WhenAll(PingManyAsync(p.A, p.AtoB), PingManyAsync(p.B, p.BtoA)).WaitAsync(Timeout, Ct);
        await YamuxSessionTests.WaitUntilAsync(() => p.AtoB.Session.OpenStreams == 0 && p.BtoA.Session.OpenStreams == 0);
    }

    [Fact]
    public async Task A_peer_that_does_not_speak_yamux_is_refused()
    {
        using var id = NodeIdentity.CreateEphemeral();
        await using var host = new Libp2pHost(id);
        var (initiator, responder) = await YamuxSessionTests.ConnectAsync();
        Task<Libp2pConnection> accept = host.AddConnectionAsync(responder, id.PeerId, initiator: false, Ct);
        var hello = new ArrayBufferWriter<byte>();
        new MultistreamDialer(["/mplex/6.7.0"]).Start(hello);
        await initiator.Output.WriteAsync(hello.WrittenMemory, Ct);
        initiator.Output.Complete();
        IOException e = await Assert.ThrowsAsync<IOException>(() => accept.WaitAsync(Timeout, Ct));
        Assert.Contains("stream muxer", e.Message, StringComparison.Ordinal);
        await initiator.DisposeAsync();
    }
}
