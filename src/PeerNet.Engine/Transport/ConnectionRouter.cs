using System.Buffers;
using System.IO.Pipelines;

namespace PeerNet.Transport;

/// <summary>What a recogniser makes of the first bytes of a connection.</summary>
internal enum Recognition
{
    /// <summary>These bytes cannot start this protocol.</summary>
    No,

    /// <summary>So far they could: show me more.</summary>
    NeedMore,

    /// <summary>This protocol owns the connection.</summary>
    Yes,
}

/// <summary>Why the router closed a connection instead of handing it on (the metric's <c>reason</c> tag).</summary>
internal enum UnroutedReason
{
    /// <summary>No registered protocol starts with these bytes.</summary>
    Unknown,

    /// <summary>The byte limit was reached and some protocol still wanted more.</summary>
    TooLong,

    /// <summary>Too few bytes came within the time limit.</summary>
    Timeout,

    /// <summary>The peer closed or reset before a protocol was recognised.</summary>
    Closed,
}

/// <summary>Limits on the sniff of an incoming connection.</summary>
internal sealed record ConnectionRouterOptions
{
    /// <summary>
    /// Most bytes looked at to choose a protocol (default 64: the BitTorrent handshake's 20-byte prefix, libp2p's
    /// 20-byte <c>/multistream/1.0.0</c> line and an HTTP request line's start all fit).
    /// </summary>
    public int MaxSniffBytes { get; init; } = 64;

    /// <summary>Time allowed for those bytes to arrive (default 10 s, as the handshake's).</summary>
    public TimeSpan SniffTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// One listening port, several protocols: reads the first bytes of an incoming connection, asks each registered
/// protocol's recogniser (in registration order) whether they are its, and hands the connection to the first that says
/// yes, with every byte read still unconsumed at the head of <see cref="IDuplexConnection.Input"/>. A recogniser that
/// still needs more bytes holds back the ones registered after it, so a catch-all protocol (MSE's "not plaintext")
/// registered last cannot take what an earlier one would have claimed. A connection no protocol wants, or that sends too
/// little within <see cref="ConnectionRouterOptions.SniffTimeout"/> or too much undecided within
/// <see cref="ConnectionRouterOptions.MaxSniffBytes"/>, is closed and counted.
/// </summary>
internal sealed class ConnectionRouter
{
    private readonly ConnectionRouterOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<UnroutedReason>? _onUnrouted;
    private readonly long[] _unrouted = new long[Enum.GetValues<UnroutedReason>().Length];
    private volatile Route[] _routes = [];

    /// <param name="options">The sniff's limits.</param>
    /// <param name="time">The clock of the sniff's time limit.</param>
    /// <param name="onUnrouted">Called for each connection closed unrouted (the node counts it on its meter).</param>
    public ConnectionRouter(ConnectionRouterOptions options, TimeProvider time, Action<UnroutedReason>? onUnrouted = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxSniffBytes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(options.SniffTimeout, TimeSpan.Zero);
        _options = options;
        _time = time;
        _onUnrouted = onUnrouted;
    }

    /// <summary>Recognises a protocol from a connection's first bytes (at most <see cref="ConnectionRouterOptions.MaxSniffBytes"/>). Pure: no state, no I/O.</summary>
    public delegate Recognition Recognizer(in ReadOnlySequence<byte> firstBytes);

    /// <summary>
    /// Takes a recognised connection: it owns it from then on (closes it when done), and finds the bytes the router read
    /// still at the head of its input. It returns once the connection is set up (its protocol's handshake done, the
    /// connection handed to whatever runs it): the listener's pending-connection slot is held until then.
    /// </summary>
    public delegate Task Handler(IDuplexConnection connection, CancellationToken cancellationToken);

    /// <summary>The registered protocols' names, in the order they are asked.</summary>
    public IReadOnlyList<string> Protocols => [.. _routes.Select(r => r.Name)];

    /// <summary>Connections closed unrouted for <paramref name="reason"/> since the router was made.</summary>
    public long UnroutedCount(UnroutedReason reason) => Interlocked.Read(ref _unrouted[(int)reason]);

    /// <summary>Adds a protocol, asked after those registered before it.</summary>
    public void Register(string name, Recognizer recognize, Handler handle)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(recognize);
        ArgumentNullException.ThrowIfNull(handle);
        lock (_unrouted)
        {
            if (_routes.Any(r => r.Name == name))
            {
                throw new InvalidOperationException($"a protocol named {name} is already registered");
            }

            _routes = [.. _routes, new Route(name, recognize, handle)];
        }
    }

    /// <summary>
    /// Sniffs <paramref name="connection"/> and runs the handler of the protocol that owns it, returning when the handler
    /// does; the router owns the connection until then, and closes it itself when no protocol takes it. Returns the
    /// protocol's name, or null when the connection was closed unrouted.
    /// </summary>
    public async Task<string?> RouteAsync(IDuplexConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Route? route;
        UnroutedReason reason = UnroutedReason.Unknown;
        try
        {
            using var timeout = new CancellationTokenSource(_options.SniffTimeout, _time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                (route, reason) = await SniffAsync(connection.Input, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                (route, reason) = (null, UnroutedReason.Timeout);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            (route, reason) = (null, UnroutedReason.Closed);
        }

        if (route is null)
        {
            Interlocked.Increment(ref _unrouted[(int)reason]);
            _onUnrouted?.Invoke(reason);
            connection.Abort();
            await connection.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        await route.Handle(connection, cancellationToken).ConfigureAwait(false);
        return route.Name;
    }

    /// <summary>Reads until a protocol says yes, none can, or the byte limit leaves the question open; consumes nothing.</summary>
    private async Task<(Route? Route, UnroutedReason Reason)> SniffAsync(PipeReader input, CancellationToken cancellationToken)
    {
        Route[] routes = _routes;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool full = buffer.Length >= _options.MaxSniffBytes;
            ReadOnlySequence<byte> window = full ? buffer.Slice(0, _options.MaxSniffBytes) : buffer;
            (Route? route, bool undecided) = Decide(routes, window);

            if (route is not null)
            {
                // Nothing consumed or examined: the owner's first read returns these bytes at once.
                input.AdvanceTo(buffer.Start);
                return (route, UnroutedReason.Unknown);
            }

            // Everything examined, so the next read waits for more.
            input.AdvanceTo(buffer.Start, buffer.End);

            if (!undecided)
            {
                return (null, UnroutedReason.Unknown);
            }

            if (full)
            {
                return (null, UnroutedReason.TooLong);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return (null, UnroutedReason.Closed);
            }
        }
    }

    /// <summary>The first route that says yes with none before it needing more; or whether any still needs more.</summary>
    private static (Route? Route, bool Undecided) Decide(Route[] routes, in ReadOnlySequence<byte> window)
    {
        bool undecided = false;
        foreach (Route route in routes)
        {
            switch (window.IsEmpty ? Recognition.NeedMore : route.Recognize(window))
            {
                case Recognition.Yes when !undecided:
                    return (route, false);
                case Recognition.Yes or Recognition.NeedMore:
                    undecided = true;
                    break;
            }
        }

        return (null, undecided);
    }

    /// <summary>
    /// The recogniser of a protocol that opens with a fixed prefix (BitTorrent's <c>\x13BitTorrent protocol</c>,
    /// multistream-select's <c>\x13/multistream/1.0.0\n</c>): yes once the prefix is all there, no at the first byte
    /// that differs, need more before that.
    /// </summary>
    public static Recognition MatchPrefix(in ReadOnlySequence<byte> firstBytes, ReadOnlySpan<byte> prefix)
    {
        int length = (int)Math.Min(firstBytes.Length, prefix.Length);
        Span<byte> head = stackalloc byte[length];
        firstBytes.Slice(0, length).CopyTo(head);
        if (!head.SequenceEqual(prefix[..length]))
        {
            return Recognition.No;
        }

        return length == prefix.Length ? Recognition.Yes : Recognition.NeedMore;
    }

    private sealed record Route(string Name, Recognizer Recognize, Handler Handle);
}
