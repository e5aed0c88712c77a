using System.Collections.Concurrent;
using System.Net;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Hostile;

/// <summary>A node's transport that records every address the node dials and every connection it made, and otherwise passes through.</summary>
internal sealed class RecordingTransport(IPeerTransport inner) : IPeerTransport
{
    /// <summary>Every address dialled, in order.</summary>
    public ConcurrentQueue<IPEndPoint> Dialled { get; } = new();

    public ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken) => inner.ListenAsync(localEndPoint, cancellationToken);

    /// <summary>Every connection dialled successfully (its byte counters keep counting until it closes).</summary>
    public ConcurrentQueue<IDuplexConnection> Connections { get; } = new();

    /// <summary>Bytes sent and received over every connection this transport dialled.</summary>
    public long BytesTransferred => Connections.Sum(c => c.BytesSent + c.BytesReceived);

    public async ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        Dialled.Enqueue(remote);
        IDuplexConnection connection = await inner.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
        Connections.Enqueue(connection);
        return connection;
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
