using System.IO.Pipelines;
using System.Net;

namespace PeerNet.Transport;

/// <summary>
/// One stream connection as a pair of pipes. Bytes the peer sends appear on <see cref="Input"/>; bytes written
/// and flushed to <see cref="Output"/> go to the peer. Both pipes apply backpressure: a consumer that stops reading
/// makes the peer's <c>FlushAsync</c> wait instead of buffering without bound.
/// </summary>
/// <remarks>
/// How it ends: the peer closing normally completes <see cref="Input"/> (a read returns <c>IsCompleted</c>); the peer
/// resetting the connection, or sending after this side closed, faults it with <see cref="ConnectionResetException"/>;
/// <see cref="Abort"/> faults both pipes with <see cref="ConnectionAbortedException"/>. Every such fault is an
/// <see cref="IOException"/>. <c>DisposeAsync</c> completes both pipes, sends what was already flushed (for a bounded
/// time), then closes.
/// </remarks>
internal interface IDuplexConnection : IAsyncDisposable
{
    /// <summary>What the peer sent.</summary>
    PipeReader Input { get; }

    /// <summary>What to send to the peer.</summary>
    PipeWriter Output { get; }

    /// <summary>The peer's endpoint (an IPv4-mapped IPv6 address is reported as the IPv4 address).</summary>
    IPEndPoint RemoteEndPoint { get; }

    /// <summary>This side's endpoint (an IPv4-mapped IPv6 address is reported as the IPv4 address).</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>
    /// Closes the connection at once, dropping unsent data (TCP: a reset). Pending and later reads and flushes
    /// fail with <see cref="ConnectionAbortedException"/> whose inner exception is <paramref name="reason"/>.
    /// Safe to call from any thread, more than once; the first reason wins.
    /// </summary>
    void Abort(Exception? reason = null);

    /// <summary>Bytes that arrived from the peer (including those not read from <see cref="Input"/> yet).</summary>
    long BytesReceived { get; }

    /// <summary>Bytes handed to the network (TCP: accepted by the socket).</summary>
    long BytesSent { get; }
}
