using PeerNet.Engine.Tests.Transport;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>The libp2p resource manager on hosts over in-memory links: limits refuse, scopes come back to zero.</summary>
public sealed class Libp2pResourceManagerTests
{
    private const string Hold = "/test/hold/1.0.0";
    private const string Echo = "/test/echo/1.0.0";
    private const string Throw = "/test/throw/1.0.0";
    private const string Sink = "/test/sink/1.0.0";

    private static readonly TimeSpan Timeout = TransportTestKit.TestTimeout;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A host with its identity; disposing disposes both.</summary>
    private sealed class Node : IAsyncDisposable
    {
        public Node(Libp2pResourceLimits? limits = null)
        {
            Id = NodeIdentity.CreateEphemeral();
            Host = new Libp2pHost(Id, new Libp2pHostOptions { IdentifyOnConnect = false, Limits = limits ?? Libp2pResourceLimits.Default });
            Host.SetHandler(Hold, HoldAsync);
            Host.SetHandler(Echo, EchoAsync);
            Host.SetHandler(Throw, (_, _, _) => throw new InvalidOperationException("a handler's bug"));
            Host.SetHandler(Sink, (_, _, ct) => Task.Delay(System.Threading.Timeout.Infinite, ct)); // never reads
        }

        public NodeIdentity Id { get; }

        public Libp2pHost Host { get; }

        public Libp2pResourceUsage Usage => Host.Resources.Snapshot();

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            Id.Dispose();
        }
    }

    /// <summary>Reads until the dialer's FIN, then answers "ok": the stream stays open as long as the dialer wants.</summary>
    private static async Task HoldAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken ct)
    {
        byte[] buffer = new byte[256];
        while (await stream.ReadAsync(buffer, ct) > 0)
        {
        }

        await stream.WriteAsync("ok"u8.ToArray(), ct);
        stream.CompleteWrites();
    }

    private static async Task EchoAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken ct)
    {
        await stream.CopyToAsync(stream, ct);
        stream.CompleteWrites();
    }

    /// <summary>Connects <paramref name="dialer"/> to <paramref name="listener"/>; returns the dialer's connection and the listener's.</summary>
    private static async Task<(Libp2pConnection Out, Libp2pConnection In)> LinkAsync(Node dialer, Node listener)
    {
        var (initiator, responder) = await YamuxSessionTests.ConnectAsync();
        Task<Libp2pConnection> dial = dialer.Host.AddConnectionAsync(initiator, listener.Id.PeerId, initiator: true, Ct);
        Task<Libp2pConnection> accept = listener.Host.AddConnectionAsync(responder, dialer.Id.PeerId, initiator: false, Ct);
        return (await dial.WaitAsync(Timeout, Ct), await accept.WaitAsync(Timeout, Ct));
    }

    private static async Task<YamuxStream> OpenHeldAsync(Node from, Libp2pConnection connection) =>
        await from.Host.OpenStreamAsync(connection, [Hold], Ct).WaitAsync(Timeout, Ct);

    /// <summary>Ends a held stream gracefully: FIN, the listener's "ok", the listener's FIN.</summary>
    private static async Task ReleaseAsync(YamuxStream stream)
    {
        stream.CompleteWrites();
        Assert.Equal("ok", await new StreamReader(stream).ReadToEndAsync(Ct).WaitAsync(Timeout, Ct));
        await stream.DisposeAsync();
    }

    private static async Task<string> EchoOnceAsync(Node from, Libp2pConnection connection, string text)
    {
        await using YamuxStream s = await from.Host.OpenStreamAsync(connection, [Echo], Ct).WaitAsync(Timeout, Ct);
        await s.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), Ct);
        s.CompleteWrites();
        return await new StreamReader(s).ReadToEndAsync(Ct).WaitAsync(Timeout, Ct);
    }

    private static async Task AssertIdleAsync(Node node, int connectionsIn = 0, int connectionsOut = 0)
    {
        await YamuxSessionTests.WaitUntilAsync(() =>
        {
            Libp2pResourceUsage u = node.Usage;
            return u.System.InboundStreams == 0 && u.System.OutboundStreams == 0 && u.System.Memory == 0 && u.TransientStreams == 0 && u.Protocols.Count == 0
                && u.System.InboundConnections == connectionsIn && u.System.OutboundConnections == connectionsOut;
        });
        Libp2pResourceUsage usage = node.Usage;
        Assert.All(usage.Peers.Values, p => Assert.Equal((0, 0, 0L), (p.InboundStreams, p.OutboundStreams, p.Memory)));
        Assert.Equal(connectionsIn + connectionsOut == 0 ? 0 : usage.Peers.Count, usage.Peers.Count(p => p.Value.InboundConnections + p.Value.OutboundConnections > 0));
    }

    [Fact]
    public async Task A_peer_over_its_stream_limit_is_reset_while_another_peer_is_served()
    {
        await using var server = new Node(new Libp2pResourceLimits { MaxInboundStreamsPerPeer = 4 });
        await using var greedy = new Node();
        await using var polite = new Node();
        var (greedyOut, _) = await LinkAsync(greedy, server);
        var (politeOut, _) = await LinkAsync(polite, server);

        List<YamuxStream> held = [];
        for (int i = 0; i < 4; i++)
        {
            held.Add(await OpenHeldAsync(greedy, greedyOut));
        }

        // The fifth is reset when its SYN arrives: the dialer's negotiation fails, the session goes on.
        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => OpenHeldAsync(greedy, greedyOut));
        Assert.Null(greedyOut.Session.CloseReason);

        // Another peer still gets service, as does the greedy one on its streams.
        Assert.Equal("hello", await EchoOnceAsync(polite, politeOut, "hello"));
        Libp2pResourceUsage usage = server.Usage;
        Assert.Equal(4, usage.Peers[greedy.Id.PeerId].InboundStreams);
        Assert.Equal(4 * YamuxOptions.SpecInitialWindow, usage.Peers[greedy.Id.PeerId].Memory);
        Assert.Equal(4, usage.Protocols[Hold].InboundStreams);
        Assert.Equal(1, usage.Refused["MaxInboundStreamsPerPeer"]);

        // Released, the greedy peer may open again; everything comes back to zero.
        await ReleaseAsync(held[0]);
        await YamuxSessionTests.WaitUntilAsync(() => server.Usage.Peers[greedy.Id.PeerId].InboundStreams == 3);
        held[0] = await OpenHeldAsync(greedy, greedyOut);
        foreach (YamuxStream s in held)
        {
            await ReleaseAsync(s);
        }

        await AssertIdleAsync(server, connectionsIn: 2);
        await AssertIdleAsync(greedy, connectionsOut: 1);
    }

    [Fact]
    public async Task A_protocol_over_its_limit_is_reset_after_negotiation_while_other_protocols_work()
    {
        await using var server = new Node(new Libp2pResourceLimits { MaxInboundStreamsPerProtocol = 2 });
        await using var a = new Node();
        await using var b = new Node();
        var (aOut, _) = await LinkAsync(a, server);
        var (bOut, _) = await LinkAsync(b, server);
        YamuxStream first = await OpenHeldAsync(a, aOut);
        YamuxStream second = await OpenHeldAsync(b, bOut);

        // The third hold stream (from either peer) is agreed, then reset before its handler runs.
        await Assert.ThrowsAsync<Libp2pStreamResetException>(async () =>
        {
            await using YamuxStream third = await OpenHeldAsync(b, bOut);
            third.CompleteWrites();
            await new StreamReader(third).ReadToEndAsync(Ct).WaitAsync(Timeout, Ct);
        });
        Assert.Equal("still", await EchoOnceAsync(b, bOut, "still"));
        Assert.True(await server.Host.PingAsync(server.Host.Connections.First(), Ct).WaitAsync(Timeout, Ct) > TimeSpan.Zero);

        Libp2pResourceUsage usage = server.Usage;
        Assert.Equal(2, usage.Protocols[Hold].InboundStreams);
        Assert.Equal(1, usage.Refused["MaxInboundStreamsPerProtocol"]);
        await ReleaseAsync(first);
        await ReleaseAsync(second);
        await AssertIdleAsync(server, connectionsIn: 2);
    }

    [Fact]
    public async Task The_system_stream_limit_counts_every_peer_together()
    {
        await using var server = new Node(new Libp2pResourceLimits { MaxInboundStreams = 3 });
        await using var a = new Node();
        await using var b = new Node();
        var (aOut, _) = await LinkAsync(a, server);
        var (bOut, _) = await LinkAsync(b, server);
        YamuxStream[] held = [await OpenHeldAsync(a, aOut), await OpenHeldAsync(a, aOut), await OpenHeldAsync(b, bOut)];
        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => OpenHeldAsync(b, bOut));
        await Assert.ThrowsAsync<Libp2pStreamResetException>(() => OpenHeldAsync(a, aOut));
        Assert.Equal(3, server.Usage.System.InboundStreams);
        Assert.Equal(2, server.Usage.Refused["MaxInboundStreams"]);

        // This side's own streams are outbound: another budget.
        YamuxStream mine = await server.Host.OpenStreamAsync(server.Host.Connections.First(c => c.RemotePeer.Equals(a.Id.PeerId)), [Hold], Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(1, server.Usage.System.OutboundStreams);
        await ReleaseAsync(mine);
        foreach (YamuxStream s in held)
        {
            await ReleaseAsync(s);
        }

        await AssertIdleAsync(server, connectionsIn: 2);
    }

    [Fact]
    public async Task An_outbound_open_over_a_limit_fails_naming_it_before_anything_is_sent()
    {
        await using var client = new Node(new Libp2pResourceLimits { MaxOutboundStreamsPerPeer = 2, MaxOutboundStreamsPerProtocol = 1 });
        await using var server = new Node();
        var (clientOut, _) = await LinkAsync(client, server);
        YamuxStream held = await OpenHeldAsync(client, clientOut);

        Libp2pResourceLimitException perProtocol = await Assert.ThrowsAsync<Libp2pResourceLimitException>(() => OpenHeldAsync(client, clientOut));
        Assert.Equal("MaxOutboundStreamsPerProtocol", perProtocol.Limit);
        Assert.Equal(1, perProtocol.Value);
        Assert.Contains("MaxOutboundStreamsPerProtocol (1 outbound " + Hold + " streams)", perProtocol.Message, StringComparison.Ordinal);

        YamuxStream echo = await client.Host.OpenStreamAsync(clientOut, [Echo], Ct).WaitAsync(Timeout, Ct);
        Libp2pResourceLimitException perPeer = await Assert.ThrowsAsync<Libp2pResourceLimitException>(() => client.Host.OpenStreamAsync(clientOut, [Libp2pHost.PingProtocolId], Ct));
        Assert.Equal("MaxOutboundStreamsPerPeer", perPeer.Limit);
        Assert.Contains("libp2p resource limit exceeded: MaxOutboundStreamsPerPeer (2 outbound streams to " + server.Id.PeerId, perPeer.Message, StringComparison.Ordinal);

        // Nothing reached the peer for the refused ones: it saw two streams.
        Assert.Equal(2, server.Usage.System.InboundStreams);
        Assert.Equal(2, clientOut.Session.OpenStreams);
        Assert.Equal(new Dictionary<string, long> { ["MaxOutboundStreamsPerProtocol"] = 1, ["MaxOutboundStreamsPerPeer"] = 1 }, client.Usage.Refused);
        await echo.DisposeAsync();
        await ReleaseAsync(held);
        await AssertIdleAsync(client, connectionsOut: 1);
    }

    [Fact]
    public async Task A_connection_over_a_limit_is_closed_after_the_upgrade_with_the_limit_named()
    {
        await using var server = new Node(new Libp2pResourceLimits { MaxInboundConnectionsPerPeer = 1, MaxInboundConnections = 2 });
        await using var a = new Node();
        await using var b = new Node();
        await using var c = new Node();
        var (aOut, _) = await LinkAsync(a, server);

        var (initiator, responder) = await YamuxSessionTests.ConnectAsync();
        Task<Libp2pConnection> dial = a.Host.AddConnectionAsync(initiator, server.Id.PeerId, initiator: true, Ct);
        Libp2pResourceLimitException again = await Assert.ThrowsAsync<Libp2pResourceLimitException>(() => server.Host.AddConnectionAsync(responder, a.Id.PeerId, initiator: false, Ct).WaitAsync(Timeout, Ct));
        Assert.Equal("MaxInboundConnectionsPerPeer", again.Limit);
        await Assert.ThrowsAnyAsync<IOException>(() => dial.WaitAsync(Timeout, Ct)); // the dialer sees the connection close

        await LinkAsync(b, server);
        (initiator, responder) = await YamuxSessionTests.ConnectAsync();
        dial = c.Host.AddConnectionAsync(initiator, server.Id.PeerId, initiator: true, Ct);
        Libp2pResourceLimitException full = await Assert.ThrowsAsync<Libp2pResourceLimitException>(() => server.Host.AddConnectionAsync(responder, c.Id.PeerId, initiator: false, Ct).WaitAsync(Timeout, Ct));
        Assert.Equal("MaxInboundConnections", full.Limit);
        await Assert.ThrowsAnyAsync<IOException>(() => dial.WaitAsync(Timeout, Ct));

        // The first connection is untouched; closing it frees its slot and its peer's scope.
        Assert.Equal("fine", await EchoOnceAsync(a, aOut, "fine"));
        Assert.Equal(2, server.Usage.System.InboundConnections);
        await aOut.Session.DisposeAsync();
        await YamuxSessionTests.WaitUntilAsync(() => server.Usage.System.InboundConnections == 1 && !server.Usage.Peers.ContainsKey(a.Id.PeerId));
        Assert.Equal(0, c.Usage.System.OutboundConnections); // the dialer's refused attempt released its own reservation
        await LinkAsync(c, server);
    }

    [Fact]
    public async Task Scopes_come_back_to_zero_after_a_flood_of_opens_resets_closes_and_aborts()
    {
        await using var server = new Node(new Libp2pResourceLimits { MaxInboundStreamsPerPeer = 24, MaxInboundStreamsPerProtocol = 20 });
        await using var client = new Node();
        var (clientOut, serverIn) = await LinkAsync(client, server);
        int served = 0, refused = 0;

        async Task OneAsync(int i)
        {
            try
            {
                switch (i % 5)
                {
                    case 0: // a graceful exchange
                        Assert.Equal("x" + i, await EchoOnceAsync(client, clientOut, "x" + i));
                        break;
                    case 1: // aborted by the dialer in the middle
                        YamuxStream aborted = await client.Host.OpenStreamAsync(clientOut, [Echo], Ct);
                        await aborted.WriteAsync(new byte[100], Ct);
                        aborted.Abort();
                        await aborted.DisposeAsync();
                        break;
                    case 2: // the handler throws
                        await using (YamuxStream s = await client.Host.OpenStreamAsync(clientOut, [Throw], Ct))
                        {
                            await new StreamReader(s).ReadToEndAsync(Ct);
                        }

                        break;
                    case 3: // disposed without reading the answer (a reset of the reading side)
                        YamuxStream dropped = await client.Host.OpenStreamAsync(clientOut, [Echo], Ct);
                        await dropped.WriteAsync(new byte[5000], Ct);
                        await dropped.DisposeAsync();
                        break;
                    default: // a protocol the server does not speak
                        await client.Host.OpenStreamAsync(clientOut, ["/test/none/1.0.0"], Ct);
                        break;
                }

                Interlocked.Increment(ref served);
            }
            catch (IOException)
            {
                Interlocked.Increment(ref refused); // reset over a limit, by the handler's failure, or refused negotiation
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(() => OneAsync(i), Ct))).WaitAsync(Timeout, Ct);
        Assert.Equal(400, served + refused);
        Assert.True(served > 0);
        await AssertIdleAsync(server, connectionsIn: 1);
        await AssertIdleAsync(client, connectionsOut: 1);
        Assert.Equal(0, serverIn.Session.OpenStreams);

        // Streams open while the session ends are released with it.
        YamuxStream[] held = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => OpenHeldAsync(client, clientOut)));
        await YamuxSessionTests.WaitUntilAsync(() => server.Usage.System.InboundStreams == 10 && server.Usage.Protocols.GetValueOrDefault(Hold)?.InboundStreams == 10);
        await serverIn.Session.DisposeAsync();
        await AssertIdleAsync(server);
        Assert.Empty(server.Usage.Peers);
        await YamuxSessionTests.WaitUntilAsync(() => client.Usage.System.OutboundConnections == 0);
        await AssertIdleAsync(client);
        Assert.All(held, s => Assert.True(s.ReadsCompleted));
    }

    [Fact]
    public async Task A_peer_that_opens_streams_and_never_lets_them_drain_cannot_pass_the_memory_budget()
    {
        const long budget = 4L * YamuxOptions.SpecInitialWindow; // four streams' windows: 1 MiB
        await using var server = new Node(new Libp2pResourceLimits { MaxStreamMemory = budget, MaxStreamMemoryPerPeer = budget });
        await using var hostile = new Node();
        var (hostileOut, serverIn) = await LinkAsync(hostile, server);

        // Each accepted stream is filled with as much as its window takes; the handler never reads.
        int accepted = 0;
        List<Task> writers = [];
        for (int i = 0; i < 12; i++)
        {
            try
            {
                YamuxStream s = await hostile.Host.OpenStreamAsync(hostileOut, [Sink], Ct).WaitAsync(Timeout, Ct);
                accepted++;
                writers.Add(s.WriteAsync(new byte[200_000], Ct).AsTask());
            }
            catch (Libp2pStreamResetException)
            {
            }
        }

        await Task.WhenAll(writers).WaitAsync(Timeout, Ct);
        Assert.Equal(4, accepted);
        await YamuxSessionTests.WaitUntilAsync(() => serverIn.Session.BufferedBytes >= 4 * 200_000);
        Assert.InRange(serverIn.Session.BufferedBytes, 4 * 200_000, budget);
        Assert.Equal(budget, server.Usage.System.Memory);
        Assert.Equal(8, server.Usage.Refused["MaxStreamMemory"]);

        await hostileOut.Session.DisposeAsync();
        await AssertIdleAsync(server);
    }

    [Fact]
    public void A_stream_grows_its_reservation_within_half_of_each_budget_and_releases_all_of_it()
    {
        const long window = YamuxOptions.SpecInitialWindow;
        var manager = new Libp2pResourceManager(new Libp2pResourceLimits { MaxStreamMemory = 16 * window, MaxStreamMemoryPerPeer = 8 * window });
        Libp2pPeerId peer = NodeIdentity.CreateEphemeral().PeerId;
        Libp2pPeerId other = NodeIdentity.CreateEphemeral().PeerId;
        Libp2pConnectionScope connection = manager.OpenConnection(peer, inbound: true);
        Assert.True(connection.TryOpenStream(inbound: true, window, protocol: null, out Libp2pStreamScope? grown, out _));

        // Up to half the peer's budget (4 windows), and not a byte past it; a refused growth is no refusal of a stream.
        Assert.True(grown!.TryGrow(window));
        Assert.True(grown.TryGrow(2 * window));
        Assert.False(grown.TryGrow(1));
        Assert.Equal(4 * window, grown.Memory);
        Assert.Empty(manager.Snapshot().Refused);

        // The other half still holds four new streams' windows; the protocol's scope takes the grown memory along.
        Assert.True(grown.TrySetProtocol(Echo, out _));
        Assert.Equal(4 * window, manager.Snapshot().Protocols[Echo].Memory);
        var others = new List<Libp2pStreamScope>();
        for (int i = 0; i < 4; i++)
        {
            Assert.True(connection.TryOpenStream(inbound: true, window, protocol: null, out Libp2pStreamScope? s, out _));
            others.Add(s!);
        }

        Assert.False(connection.TryOpenStream(inbound: true, window, protocol: null, out _, out _));

        // Half the system's budget counts every peer: 8 windows used, so another peer's stream cannot grow.
        Libp2pConnectionScope otherConnection = manager.OpenConnection(other, inbound: false);
        Assert.True(otherConnection.TryOpenStream(inbound: false, window, Echo, out Libp2pStreamScope? small, out _));
        Assert.False(small!.TryGrow(window));

        // Released: the whole grown reservation comes back, and a released stream grows no more.
        grown.Dispose();
        Assert.False(grown.TryGrow(window));
        Assert.True(small.TryGrow(window)); // the system has room again
        others.ForEach(s => s.Dispose());
        connection.Dispose();
        otherConnection.Dispose(); // takes the grown stream still open on it along
        Libp2pResourceUsage usage = manager.Snapshot();
        Assert.Equal((0L, 0, 0, 0), (usage.System.Memory, usage.System.InboundStreams, usage.System.OutboundStreams, usage.TransientStreams));
        Assert.Empty(usage.Peers);
        Assert.Empty(usage.Protocols);
    }

    [Fact]
    public void Limits_are_validated_with_the_problem_named()
    {
        Assert.Empty(Libp2pResourceLimits.Default.Validate());
        Assert.Contains("Libp2pLimits.MaxInboundStreamsPerPeer must be at least 1", new Libp2pResourceLimits { MaxInboundStreamsPerPeer = 0 }.Validate());
        Assert.Contains(new Libp2pResourceLimits { MaxStreamMemoryPerPeer = 1000 }.Validate(), p => p.Contains("MaxStreamMemoryPerPeer", StringComparison.Ordinal));
        Assert.Contains(new Libp2pResourceLimits { MaxStreamMemory = 1 << 20, MaxStreamMemoryPerPeer = 2 << 20 }.Validate(), p => p.Contains("cannot be above", StringComparison.Ordinal));
        Assert.Contains(new PeerNetNodeOptions { Libp2pLimits = new Libp2pResourceLimits { MaxConnections = 0 } }.Validate(), p => p.Contains("MaxConnections", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new Libp2pResourceManager(new Libp2pResourceLimits { MaxOutboundStreams = -1 }));
    }
}
