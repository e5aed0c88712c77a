using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Runtime.CompilerServices;
using PeerNet.Transport;

namespace PeerNet.Libp2p;

/// <summary>Serves one protocol on an inbound stream; the host disposes the stream when it returns.</summary>
internal delegate Task Libp2pStreamHandler(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken);

/// <summary>Settings of a <see cref="Libp2pHost"/>.</summary>
internal sealed record Libp2pHostOptions
{
    /// <summary>The muxer's limits.</summary>
    public YamuxOptions Yamux { get; init; } = YamuxOptions.Default;

    /// <summary>The addresses announced in identify.</summary>
    public IReadOnlyList<Multiaddr> ListenAddrs { get; init; } = [];

    /// <summary>The agent version announced in identify; <c>peernet/VERSION</c> by default.</summary>
    public string AgentVersion { get; init; } = DefaultAgentVersion();

    /// <summary>How long a multistream-select negotiation (the muxer's, or a stream's) may take.</summary>
    public TimeSpan NegotiationTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long identify may take, and how long a finished handler waits for the peer to close its side.</summary>
    public TimeSpan ProtocolTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether each new connection runs identify against the peer (as js- and go-libp2p do).</summary>
    public bool IdentifyOnConnect { get; init; } = true;

    /// <summary>Most protocol handlers registered.</summary>
    public int MaxHandlers { get; init; } = 64;

    /// <summary>The resource manager's limits: connections, streams and stream memory across the host.</summary>
    public Libp2pResourceLimits Limits { get; init; } = Libp2pResourceLimits.Default;

    private static string DefaultAgentVersion()
    {
        string? version = typeof(Libp2pHost).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        int plus = version?.IndexOf('+', StringComparison.Ordinal) ?? -1;
        return $"peernet/{(plus > 0 ? version![..plus] : version ?? "0.0.0")}";
    }
}

/// <summary>One libp2p connection of a host: the peer, its yamux session, and identify's outcome.</summary>
internal sealed class Libp2pConnection
{
    private readonly TaskCompletionSource<Libp2pPeerRecord?> _identified = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal Libp2pConnection(Libp2pPeerId remotePeer, bool isInitiator, YamuxSession session)
    {
        RemotePeer = remotePeer;
        IsInitiator = isInitiator;
        Session = session;
    }

    /// <summary>The authenticated peer at the other end.</summary>
    public Libp2pPeerId RemotePeer { get; }

    /// <summary>Whether this side dialled.</summary>
    public bool IsInitiator { get; }

    /// <summary>The stream muxer.</summary>
    public YamuxSession Session { get; }

    /// <summary>The peer's address as this side sees it.</summary>
    public IPEndPoint RemoteEndPoint => Session.Connection.RemoteEndPoint;

    /// <summary>The outcome of identify on connect: the peer's record, or null when it failed or is off.</summary>
    public Task<Libp2pPeerRecord?> Identified => _identified.Task;

    /// <summary>Why identify on connect failed, if it did.</summary>
    public string? IdentifyError { get; private set; }

    internal void SetIdentified(Libp2pPeerRecord? record, string? error)
    {
        IdentifyError = error;
        _identified.TrySetResult(record);
    }
}

/// <summary>
/// libp2p's host layer over connections that are already secured (Noise comes below it): negotiates <c>/yamux/1.0.0</c>
/// with multistream-select, runs the yamux session, negotiates each inbound stream's protocol against the registered
/// handlers and runs the handler; opens outbound streams the same way. Built in: <c>/ipfs/ping/1.0.0</c>,
/// <c>/ipfs/id/1.0.0</c> and <c>/ipfs/id/push/1.0.0</c>, with a peer store of what peers said.
/// </summary>
internal sealed class Libp2pHost : IAsyncDisposable
{
    /// <summary>The ping protocol.</summary>
    public const string PingProtocolId = "/ipfs/ping/1.0.0";

    /// <summary>A ping's payload size.</summary>
    public const int PingPayloadLength = 32;

    private readonly NodeIdentity _identity;
    private readonly Libp2pHostOptions _options;
    private readonly ConcurrentDictionary<string, Libp2pStreamHandler> _handlers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Libp2pConnection, Task> _connections = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly byte[] _publicKeyMessage;
    private int _disposed;

    /// <summary>A host for <paramref name="identity"/> with the built-in protocols registered.</summary>
    public Libp2pHost(NodeIdentity identity, Libp2pHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _identity = identity;
        _options = options ?? new Libp2pHostOptions();
        _options.Yamux.Validate();
        _publicKeyMessage = Libp2pKeys.EncodeEd25519PublicKey(identity.PublicKey.Span);
        Resources = new Libp2pResourceManager(_options.Limits);
        SetHandler(PingProtocolId, ServePingAsync);
        SetHandler(IdentifyMessage.ProtocolId, ServeIdentifyAsync);
        SetHandler(IdentifyMessage.PushProtocolId, ServeIdentifyPushAsync);
    }

    /// <summary>This node's peer ID.</summary>
    public Libp2pPeerId PeerId => _identity.PeerId;

    /// <summary>What peers said about themselves.</summary>
    public Libp2pPeerStore Peers { get; } = new();

    /// <summary>The resource manager every connection and stream of the host reserves in.</summary>
    public Libp2pResourceManager Resources { get; }

    /// <summary>The protocols this host serves, sorted.</summary>
    public IReadOnlyList<string> Protocols => [.. _handlers.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The live connections.</summary>
    public IReadOnlyCollection<Libp2pConnection> Connections => [.. _connections.Keys];

    /// <summary>
    /// Raised once per connection when it is ready for protocols to use: identify has answered (or failed, or is off),
    /// so <see cref="Libp2pConnection.Identified"/> is complete. Handlers run on a pool thread; an exception is ignored.
    /// </summary>
    public event Action<Libp2pConnection>? ConnectionReady;

    /// <summary>Raised once per connection when it has closed and its streams have ended; an exception is ignored.</summary>
    public event Action<Libp2pConnection>? ConnectionClosed;

    /// <summary>Registers (or replaces) the handler of <paramref name="protocolId"/>; tell connected peers with <see cref="PushIdentifyAsync"/>.</summary>
    public void SetHandler(string protocolId, Libp2pStreamHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!MultistreamListener.IsValidProtocolId(protocolId, MultistreamMessage.DefaultMaxLineLength) || protocolId.Length > IdentifyMessage.MaxTextLength)
        {
            throw new ArgumentException($"'{protocolId}' is not a protocol ID.", nameof(protocolId));
        }

        if (!_handlers.ContainsKey(protocolId) && _handlers.Count >= _options.MaxHandlers)
        {
            throw new InvalidOperationException($"The host already has {_options.MaxHandlers} protocol handlers.");
        }

        _handlers[protocolId] = handler;
    }

    /// <summary>Removes the handler of <paramref name="protocolId"/>.</summary>
    public bool RemoveHandler(string protocolId) => _handlers.TryRemove(protocolId, out _);

    /// <summary>
    /// Takes a secured connection to <paramref name="remotePeer"/>: negotiates the muxer (this side proposes when
    /// <paramref name="initiator"/>), starts the session and serves inbound streams; runs identify unless turned off.
    /// On failure the connection is disposed and an <see cref="IOException"/> says why: a
    /// <see cref="Libp2pResourceLimitException"/> when the connection would go over a limit (checked first, before the
    /// muxer costs anything).
    /// </summary>
    public async Task<Libp2pConnection> AddConnectionAsync(IDuplexConnection secured, Libp2pPeerId remotePeer, bool initiator, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secured);
        ArgumentNullException.ThrowIfNull(remotePeer);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Libp2pConnectionScope scope;
        try
        {
            scope = Resources.OpenConnection(remotePeer, inbound: !initiator);
        }
        catch (Libp2pResourceLimitException e)
        {
            secured.Abort(e);
            await secured.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            timeout.CancelAfter(_options.NegotiationTimeout);
            MultistreamNegotiation side = initiator
                ? new MultistreamDialer([YamuxSession.ProtocolId])
                : new MultistreamListener([YamuxSession.ProtocolId]);
            await Libp2pNegotiation.NegotiateAsync(secured.Input, secured.Output, side, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            scope.Dispose();
            await secured.DisposeAsync().ConfigureAwait(false);
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new IOException($"Negotiating the stream muxer with {remotePeer} failed: {(e is OperationCanceledException ? "it took too long" : e.Message)}", e);
        }

        var session = new YamuxSession(secured, initiator, _options.Yamux, scope);
        var connection = new Libp2pConnection(remotePeer, initiator, session);
        session.Start();
        _connections[connection] = AcceptLoopAsync(connection);
        if (_options.IdentifyOnConnect)
        {
            _ = IdentifyOnConnectAsync(connection);
        }
        else
        {
            connection.SetIdentified(null, "identify on connect is off");
            _ = Task.Run(() => Raise(ConnectionReady, connection), CancellationToken.None);
        }

        return connection;
    }

    /// <summary>
    /// Opens a stream to the peer and negotiates the first of <paramref name="protocolIds"/> it speaks
    /// (<see cref="Libp2pStream.Protocol"/> says which). The caller disposes the stream. Over a resource limit it
    /// throws <see cref="Libp2pResourceLimitException"/> naming it: before anything is sent when one protocol is asked
    /// for, after the negotiation (the stream reset) for a per-protocol limit when several are.
    /// </summary>
    public async Task<YamuxStream> OpenStreamAsync(Libp2pConnection connection, IReadOnlyList<string> protocolIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var dialer = new MultistreamDialer(protocolIds);
        YamuxStream stream = await connection.Session.OpenStreamAsync(cancellationToken, protocolIds.Count == 1 ? protocolIds[0] : null).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.NegotiationTimeout);
            stream.Protocol = await Libp2pNegotiation.NegotiateAsync(stream, dialer, timeout.Token).ConfigureAwait(false);
            if (stream.Scope is { } scope && !scope.TrySetProtocol(stream.Protocol, out Libp2pResourceLimitException? refused))
            {
                throw refused!;
            }

            return stream;
        }
        catch (Exception e)
        {
            stream.Abort();
            await stream.DisposeAsync().ConfigureAwait(false);
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new IOException($"Negotiating {string.Join(" or ", protocolIds)} with {connection.RemotePeer} took too long.", e);
            }

            throw;
        }
    }

    /// <summary>Pings the peer over <c>/ipfs/ping/1.0.0</c> (32 random bytes echoed) and returns the round trip.</summary>
    public async Task<TimeSpan> PingAsync(Libp2pConnection connection, CancellationToken cancellationToken)
    {
        YamuxStream stream = await OpenStreamAsync(connection, [PingProtocolId], cancellationToken).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable disposeStream = stream.ConfigureAwait(false);
        byte[] payload = new byte[PingPayloadLength];
        Random.Shared.NextBytes(payload);
        byte[] echo = new byte[PingPayloadLength];
        long start = Stopwatch.GetTimestamp();
        await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
        await stream.ReadExactlyAsync(echo, cancellationToken).ConfigureAwait(false);
        TimeSpan rtt = Stopwatch.GetElapsedTime(start);
        if (!echo.AsSpan().SequenceEqual(payload))
        {
            throw new IOException($"{connection.RemotePeer} answered the ping with other bytes.");
        }

        stream.CompleteWrites();
        return rtt;
    }

    /// <summary>Asks the peer who it is (<c>/ipfs/id/1.0.0</c>), checks the answer and records it in <see cref="Peers"/>.</summary>
    public async Task<Libp2pPeerRecord> IdentifyAsync(Libp2pConnection connection, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProtocolTimeout);
        YamuxStream stream = await OpenStreamAsync(connection, [IdentifyMessage.ProtocolId], timeout.Token).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable disposeStream = stream.ConfigureAwait(false);
        stream.CompleteWrites();
        byte[] body = await Libp2pNegotiation.ReadBodyAsync(stream, IdentifyMessage.MaxMessageLength, timeout.Token).ConfigureAwait(false)
            ?? throw new IOException($"{connection.RemotePeer} closed the identify stream without an answer.");
        if (!IdentifyMessage.TryDecode(body, connection.RemotePeer, isPush: false, out IdentifyInfo? info, out string? error))
        {
            throw new InvalidDataException($"{connection.RemotePeer}'s identify was refused: {error}.");
        }

        return Peers.Update(connection.RemotePeer, info, replace: true);
    }

    /// <summary>Sends this host's identify (<c>/ipfs/id/push/1.0.0</c>) to every connected peer that speaks push; returns how many took it.</summary>
    public async Task<int> PushIdentifyAsync(CancellationToken cancellationToken)
    {
        int pushed = 0;
        foreach (Libp2pConnection connection in Connections)
        {
            if (Peers.Get(connection.RemotePeer) is { } record && !record.Protocols.Contains(IdentifyMessage.PushProtocolId))
            {
                continue;
            }

            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(_options.ProtocolTimeout);
                YamuxStream stream = await OpenStreamAsync(connection, [IdentifyMessage.PushProtocolId], timeout.Token).ConfigureAwait(false);
                await using ConfiguredAsyncDisposable disposeStream = stream.ConfigureAwait(false);
                await WriteIdentifyAsync(stream, connection, timeout.Token).ConfigureAwait(false);
                await DrainAsync(stream, timeout.Token).ConfigureAwait(false);
                pushed++;
            }
            catch (Exception e) when (e is IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // That peer did not take it; the others still get theirs.
            }
        }

        return pushed;
    }

    /// <summary>Closes every connection (GoAway) and stops serving.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        foreach (Libp2pConnection connection in _connections.Keys)
        {
            await connection.Session.DisposeAsync().ConfigureAwait(false);
        }

        await Task.WhenAll(_connections.Values).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync(Libp2pConnection connection)
    {
        await Task.Yield();
        var running = new ConcurrentDictionary<Task, byte>();
        while (await connection.Session.AcceptStreamAsync(CancellationToken.None).ConfigureAwait(false) is { } stream)
        {
            Task serving = ServeStreamAsync(connection, stream);
            running[serving] = 0;
            _ = serving.ContinueWith(t => running.TryRemove(t, out _), TaskScheduler.Default);
        }

        await Task.WhenAll(running.Keys).ConfigureAwait(false);
        _connections.TryRemove(connection, out _);
        Raise(ConnectionClosed, connection);
    }

    private static void Raise(Action<Libp2pConnection>? handlers, Libp2pConnection connection)
    {
        foreach (Action<Libp2pConnection> handler in handlers?.GetInvocationList().Cast<Action<Libp2pConnection>>() ?? [])
        {
            try
            {
                handler(connection);
            }
            catch (Exception)
            {
                // A protocol's bug must not stop the others from hearing of the connection.
            }
        }
    }

    private async Task ServeStreamAsync(Libp2pConnection connection, YamuxStream stream)
    {
        await Task.Yield();
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(_options.NegotiationTimeout);
                var listener = new MultistreamListener([.. _handlers.Keys]);
                stream.Protocol = await Libp2pNegotiation.NegotiateAsync(stream, listener, timeout.Token).ConfigureAwait(false);
            }

            if (!_handlers.TryGetValue(stream.Protocol, out Libp2pStreamHandler? handler))
            {
                stream.Abort(); // removed while negotiating
                return;
            }

            if (stream.Scope is { } scope && !scope.TrySetProtocol(stream.Protocol, out _))
            {
                stream.Abort(); // over the protocol's limit (counted by the manager): reset, as go-libp2p does
                return;
            }

            await handler(stream, connection, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A failed negotiation or a handler's failure (even a bug) ends that stream, never the host.
            stream.Abort();
        }
        finally
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task IdentifyOnConnectAsync(Libp2pConnection connection)
    {
        await Task.Yield();
        try
        {
            connection.SetIdentified(await IdentifyAsync(connection, _stop.Token).ConfigureAwait(false), null);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidDataException or ObjectDisposedException)
        {
            connection.SetIdentified(null, e.Message);
        }

        Raise(ConnectionReady, connection);
    }

    /// <summary>The ping responder: echoes 32-byte payloads until the peer closes.</summary>
    private static async Task ServePingAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken)
    {
        byte[] payload = new byte[PingPayloadLength];
        while (true)
        {
            int have = 0;
            while (have < PingPayloadLength)
            {
                int n = await stream.ReadAsync(payload.AsMemory(have), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    if (have != 0)
                    {
                        throw new IOException("The peer closed ping inside a payload.");
                    }

                    stream.CompleteWrites();
                    return;
                }

                have += n;
            }

            await stream.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The identify responder: one message, then FIN, then a bounded wait for the peer's FIN.</summary>
    private async Task ServeIdentifyAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProtocolTimeout);
        await WriteIdentifyAsync(stream, connection, timeout.Token).ConfigureAwait(false);
        await DrainAsync(stream, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>The identify/push receiver: one message from the peer, merged into what is known of it.</summary>
    private async Task ServeIdentifyPushAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProtocolTimeout);
        byte[] body = await Libp2pNegotiation.ReadBodyAsync(stream, IdentifyMessage.MaxMessageLength, timeout.Token).ConfigureAwait(false)
            ?? throw new IOException("The peer closed identify/push without a message.");
        if (!IdentifyMessage.TryDecode(body, connection.RemotePeer, isPush: true, out IdentifyInfo? info, out string? error))
        {
            throw new InvalidDataException($"{connection.RemotePeer}'s identify/push was refused: {error}.");
        }

        Peers.Update(connection.RemotePeer, info, replace: false);
        stream.CompleteWrites();
    }

    private async Task WriteIdentifyAsync(YamuxStream stream, Libp2pConnection connection, CancellationToken cancellationToken)
    {
        IPEndPoint remote = connection.RemoteEndPoint;
        byte[] message = IdentifyMessage.Encode(_publicKeyMessage, _options.AgentVersion, _options.ListenAddrs, Multiaddr.ForTcp(remote.Address, remote.Port), Protocols);
        var framed = new System.Buffers.ArrayBufferWriter<byte>(message.Length + UnsignedVarint.MaxLength);
        LengthPrefixedMessage.Write(message, framed);
        await stream.WriteAsync(framed.WrittenMemory, cancellationToken).ConfigureAwait(false);
        stream.CompleteWrites();
    }

    /// <summary>Reads (and drops, at most a few KiB) until the peer's FIN, so the stream closes cleanly rather than with an RST.</summary>
    private static async Task DrainAsync(YamuxStream stream, CancellationToken cancellationToken)
    {
        byte[] sink = new byte[1024];
        for (int total = 0; total <= 4 * sink.Length;)
        {
            int n = await stream.ReadAsync(sink, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                return;
            }

            total += n;
        }
    }
}
