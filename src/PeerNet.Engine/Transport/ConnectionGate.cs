namespace PeerNet.Transport;

/// <summary>
/// Limits on connections, shared by a node's torrents: how many outgoing connects may be in progress at once
/// ("half-open", default 8; libtorrent allows about 10), how many connections the node holds in total, and how many
/// each torrent holds (<see cref="ConnectionGroup"/>). Thread-safe.
/// </summary>
/// <remarks>
/// A dial takes a connection slot first (<see cref="TryAcquireConnection"/>), then a half-open slot
/// (<see cref="WaitHalfOpenAsync"/>), and gives the half-open slot back as soon as the connect ends either way;
/// an inbound connection takes only a connection slot. Every successful acquire is matched by one release.
/// </remarks>
internal sealed class ConnectionGate : IDisposable
{
    /// <summary>Default limit on connects in progress.</summary>
    public const int DefaultMaxHalfOpen = 8;

    /// <summary>Default limit on the node's connections.</summary>
    public const int DefaultMaxConnections = 200;

    /// <summary>Default limit on one torrent's connections.</summary>
    public const int DefaultMaxConnectionsPerTorrent = 50;

    private readonly SemaphoreSlim _halfOpen;
    private readonly Lock _lock = new();
    private int _connections;

    /// <summary>Creates a gate with the given limits (each at least 1).</summary>
    public ConnectionGate(int maxHalfOpen = DefaultMaxHalfOpen, int maxConnections = DefaultMaxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHalfOpen, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        MaxHalfOpen = maxHalfOpen;
        MaxConnections = maxConnections;
        _halfOpen = new SemaphoreSlim(maxHalfOpen, maxHalfOpen);
    }

    /// <summary>Most connects in progress at once.</summary>
    public int MaxHalfOpen { get; }

    /// <summary>Most connections the node holds at once.</summary>
    public int MaxConnections { get; }

    /// <summary>Connects in progress now.</summary>
    public int HalfOpen => MaxHalfOpen - _halfOpen.CurrentCount;

    /// <summary>Connections held now.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>A counter for one torrent, limited to <paramref name="maxConnections"/>, inside this gate's total.</summary>
    public ConnectionGroup CreateGroup(int maxConnections = DefaultMaxConnectionsPerTorrent) => new(this, maxConnections);

    /// <summary>Takes a half-open slot if one is free.</summary>
    public bool TryAcquireHalfOpen() => _halfOpen.Wait(0);

    /// <summary>Waits for a half-open slot and takes it.</summary>
    public Task WaitHalfOpenAsync(CancellationToken cancellationToken) => _halfOpen.WaitAsync(cancellationToken);

    /// <summary>Gives back a half-open slot taken by <see cref="TryAcquireHalfOpen"/> or <see cref="WaitHalfOpenAsync"/>.</summary>
    /// <exception cref="InvalidOperationException">No half-open slot is held.</exception>
    public void ReleaseHalfOpen()
    {
        try
        {
            _halfOpen.Release();
        }
        catch (SemaphoreFullException e)
        {
            throw new InvalidOperationException("ReleaseHalfOpen without a matching acquire.", e);
        }
    }

    /// <summary>
    /// Takes a connection slot in the node's total and, if given, in <paramref name="group"/>; false (taking
    /// nothing) when either is full.
    /// </summary>
    public bool TryAcquireConnection(ConnectionGroup? group = null)
    {
        CheckOwner(group);
        lock (_lock)
        {
            if (_connections >= MaxConnections || (group is not null && group.Count >= group.MaxConnections))
            {
                return false;
            }

            _connections++;
            group?.Increment();
            return true;
        }
    }

    /// <summary>Gives back a slot taken by <see cref="TryAcquireConnection"/> with the same <paramref name="group"/>.</summary>
    /// <exception cref="InvalidOperationException">No such slot is held.</exception>
    public void ReleaseConnection(ConnectionGroup? group = null)
    {
        CheckOwner(group);
        lock (_lock)
        {
            if (_connections == 0 || (group is not null && group.Count == 0))
            {
                throw new InvalidOperationException("ReleaseConnection without a matching acquire.");
            }

            _connections--;
            group?.Decrement();
        }
    }

    private void CheckOwner(ConnectionGroup? group)
    {
        if (group is not null && group.Gate != this)
        {
            throw new ArgumentException("The group belongs to another gate.", nameof(group));
        }
    }

    /// <summary>Releases the semaphore's wait handle, if one was ever created.</summary>
    public void Dispose() => _halfOpen.Dispose();
}
