namespace PeerNet.Transport;

/// <summary>One torrent's share of a <see cref="ConnectionGate"/>: its own connection count and limit.</summary>
internal sealed class ConnectionGroup
{
    private int _count;

    /// <summary>Created by <see cref="ConnectionGate.CreateGroup"/>.</summary>
    internal ConnectionGroup(ConnectionGate gate, int maxConnections)
    {
        Gate = gate;
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        MaxConnections = maxConnections;
    }

    /// <summary>The gate whose total this group counts toward.</summary>
    public ConnectionGate Gate { get; }

    /// <summary>Most connections this group may hold.</summary>
    public int MaxConnections { get; }

    /// <summary>Connections the group holds now.</summary>
    public int Count => Volatile.Read(ref _count);

    // Changed only under the gate's lock.
    internal void Increment() => _count++;

    internal void Decrement() => _count--;
}
