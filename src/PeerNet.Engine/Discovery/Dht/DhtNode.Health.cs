namespace PeerNet.Discovery.Dht;

public sealed partial class DhtNode
{
    private long _lastLookupAnsweredTicks; // UTC ticks of the last lookup some node answered; 0 for none
    private int _bootstrap; // a DhtBootstrapState

    /// <summary>Notes, on the node's clock, a lookup that some node answered (what <c>peernet doctor</c> calls a successful lookup).</summary>
    private void NoteLookup(LookupResult result)
    {
        if (result.Closest.Count > 0)
        {
            Interlocked.Exchange(ref _lastLookupAnsweredTicks, _time.GetUtcNow().UtcTicks);
        }
    }

    private void NoteBootstrap(DhtBootstrapState state) => Volatile.Write(ref _bootstrap, (int)state);

    private DateTimeOffset? LastLookupAnswered => Interlocked.Read(ref _lastLookupAnsweredTicks) is var ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    private DhtBootstrapState Bootstrap => (DhtBootstrapState)Volatile.Read(ref _bootstrap);
}

/// <summary>Where a <see cref="DhtNode"/>'s joining of the DHT stands (the last bootstrap's outcome).</summary>
public enum DhtBootstrapState
{
    /// <summary>Not started yet.</summary>
    NotStarted,

    /// <summary>Asking the saved and bootstrap nodes, then looking its own ID up.</summary>
    Running,

    /// <summary>Joined: the routing table holds nodes.</summary>
    Joined,

    /// <summary>The last bootstrap ended with an empty table: no saved or bootstrap node answered (tried again at the next upkeep).</summary>
    NobodyAnswered,
}
