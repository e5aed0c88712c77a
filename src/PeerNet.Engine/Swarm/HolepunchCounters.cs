namespace PeerNet.Swarm;

/// <summary>
/// BEP 55 ut_holepunch counts over every torrent of a session (written on the torrents' loops, read from anywhere):
/// what the node relayed, what it asked and was told, and the holepunch dials' outcomes.
/// </summary>
internal sealed class HolepunchCounters
{
    private long _rendezvousReceived;
    private long _relayed;
    private long _errorsSent;
    private long _rateLimited;
    private long _rendezvousSent;
    private long _connectsReceived;
    private long _connected;
    private long _connectFailed;
    private long _errorsReceived;

    /// <summary>Rendezvous messages peers sent us (as a relay).</summary>
    public long RendezvousReceived => Interlocked.Read(ref _rendezvousReceived);

    /// <summary>Rendezvous we relayed: a connect sent to both peers.</summary>
    public long Relayed => Interlocked.Read(ref _relayed);

    /// <summary>Rendezvous we answered with an error message.</summary>
    public long ErrorsSent => Interlocked.Read(ref _errorsSent);

    /// <summary>Rendezvous dropped because the peer sent too many.</summary>
    public long RateLimited => Interlocked.Read(ref _rateLimited);

    /// <summary>Rendezvous we sent, asking a peer to relay.</summary>
    public long RendezvousSent => Interlocked.Read(ref _rendezvousSent);

    /// <summary>Connect messages relays sent us.</summary>
    public long ConnectsReceived => Interlocked.Read(ref _connectsReceived);

    /// <summary>Holepunch dials that ended in a handshaken connection.</summary>
    public long Connected => Interlocked.Read(ref _connected);

    /// <summary>Holepunch dials that failed.</summary>
    public long ConnectFailed => Interlocked.Read(ref _connectFailed);

    /// <summary>Error messages relays sent us.</summary>
    public long ErrorsReceived => Interlocked.Read(ref _errorsReceived);

    public void OnRendezvousReceived() => Interlocked.Increment(ref _rendezvousReceived);

    public void OnRelayed() => Interlocked.Increment(ref _relayed);

    public void OnErrorSent() => Interlocked.Increment(ref _errorsSent);

    public void OnRateLimited() => Interlocked.Increment(ref _rateLimited);

    public void OnRendezvousSent() => Interlocked.Increment(ref _rendezvousSent);

    public void OnConnectReceived() => Interlocked.Increment(ref _connectsReceived);

    public void OnConnected() => Interlocked.Increment(ref _connected);

    public void OnConnectFailed() => Interlocked.Increment(ref _connectFailed);

    public void OnErrorReceived() => Interlocked.Increment(ref _errorsReceived);
}
