using System.Net;

namespace PeerNet.Transport;

/// <summary>Accepts inbound connections on one local endpoint. Disposing it stops accepting and releases the port.</summary>
internal interface IPeerListener : IAsyncDisposable
{
    /// <summary>The endpoint actually bound: the port the system chose when port 0 was asked for.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Waits for the next inbound connection.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    /// <exception cref="ObjectDisposedException">The listener was disposed (also for an accept pending at the time).</exception>
    ValueTask<IDuplexConnection> AcceptAsync(CancellationToken cancellationToken);
}
