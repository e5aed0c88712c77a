using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace PeerNet;

/// <summary>
/// Hands each event to every watcher, each through a bounded buffer of its own that drops its oldest event when full
/// (as libtorrent's alert queue does): a slow watcher never holds up the node, and learns how much it missed.
/// </summary>
internal sealed class NodeEventHub
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private Watcher[] _watchers = [];

    public NodeEventHub(TimeProvider time, int capacity)
    {
        _time = time;
        _capacity = Math.Max(1, capacity);
    }

    /// <summary>Whether anyone watches (events are not even built otherwise).</summary>
    public bool HasWatchers => Volatile.Read(ref _watchers).Length > 0;

    /// <summary>Stamps <paramref name="e"/> with the time and hands it to every watcher.</summary>
    public void Publish(NodeEvent e)
    {
        Watcher[] watchers = Volatile.Read(ref _watchers);
        if (watchers.Length == 0)
        {
            return;
        }

        NodeEvent stamped = e with { Time = _time.GetUtcNow() };
        foreach (Watcher watcher in watchers)
        {
            watcher.Channel.Writer.TryWrite(stamped);
        }
    }

    /// <summary>Ends every watch (the node stops).</summary>
    public void Complete()
    {
        lock (_gate)
        {
            foreach (Watcher watcher in _watchers)
            {
                watcher.Channel.Writer.TryComplete();
            }

            _watchers = [];
        }
    }

    /// <summary>
    /// Registers a watcher now (it sees every event from this call on) and returns its events, to be enumerated once;
    /// the watcher goes when the enumeration ends or <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public IAsyncEnumerable<NodeEvent> Watch(CancellationToken cancellationToken)
    {
        var watcher = new Watcher(_capacity);
        lock (_gate)
        {
            _watchers = [.. _watchers, watcher];
        }

        watcher.Registration = cancellationToken.Register(static state => ((Watcher)state!).Channel.Writer.TryComplete(), watcher);
        return ReadAsync(watcher, cancellationToken);
    }

    private async IAsyncEnumerable<NodeEvent> ReadAsync(Watcher watcher, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            ChannelReader<NodeEvent> reader = watcher.Channel.Reader;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out NodeEvent? e))
                {
                    long dropped = Interlocked.Exchange(ref watcher.Dropped, 0);
                    if (dropped > 0)
                    {
                        yield return new EventsDropped(dropped) { Time = e.Time };
                    }

                    yield return e;
                }
            }

            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            await watcher.Registration.DisposeAsync().ConfigureAwait(false);
            lock (_gate)
            {
                _watchers = [.. _watchers.Where(w => w != watcher)];
            }
        }
    }

    private sealed class Watcher
    {
        public long Dropped;

        public Watcher(int capacity)
        {
            Channel = System.Threading.Channels.Channel.CreateBounded<NodeEvent>(
                new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
                _ => Interlocked.Increment(ref Dropped));
        }

        public Channel<NodeEvent> Channel { get; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
