using System.Collections.Concurrent;
using System.Net;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Hostile;

/// <summary>A node's transport that records every address the node dials, and otherwise passes through.</summary>
internal sealed class RecordingTransport(IPeerTransport inner) : IPeerTransport
{
    /// <summary>Every address dialled, in order.</summary>
    public ConcurrentQueue<IPEndPoint> Dialled { get; } = new();

    public ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken) => inner.ListenAsync(localEndPoint, cancellationToken);

    public ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        Dialled.Enqueue(remote);
        return inner.ConnectAsync(remote, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
