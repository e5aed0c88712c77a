using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>Limits and helpers shared by the transports.</summary>
internal static class TransportDefaults
{
    /// <summary>A pipe holding this many unread bytes makes its writer's <c>FlushAsync</c> wait (backpressure).</summary>
    public const long PauseWriterThreshold = 1024 * 1024;

    /// <summary>A paused writer resumes once the reader has brought the pipe below this many bytes.</summary>
    public const long ResumeWriterThreshold = 512 * 1024;

    /// <summary>
    /// Smallest buffer a pipe rents. Large enough that a loopback receive moves a useful amount per system call;
    /// buffers come from the shared array pool only when there is data to hold, so idle connections hold none.
    /// </summary>
    public const int SegmentSize = 64 * 1024;

    /// <summary>
    /// The pipe that carries received bytes to the application. The transport's receive loop writes it and resumes
    /// inline when the application frees space; the application's reads resume on the thread pool.
    /// </summary>
    public static PipeOptions InputPipeOptions { get; } = new(
        pool: null,
        readerScheduler: PipeScheduler.ThreadPool,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: PauseWriterThreshold,
        resumeWriterThreshold: ResumeWriterThreshold,
        minimumSegmentSize: SegmentSize,
        useSynchronizationContext: false);

    /// <summary>
    /// The pipe that carries the application's bytes to the network. A flush runs the transport's send loop inline,
    /// so a send that the socket takes at once costs no thread hop; a writer waiting on backpressure resumes on the
    /// thread pool.
    /// </summary>
    public static PipeOptions OutputPipeOptions { get; } = new(
        pool: null,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.ThreadPool,
        pauseWriterThreshold: PauseWriterThreshold,
        resumeWriterThreshold: ResumeWriterThreshold,
        minimumSegmentSize: SegmentSize,
        useSynchronizationContext: false);

    /// <summary>Reports an IPv4-mapped IPv6 endpoint (from a dual-mode socket) as the IPv4 endpoint it stands for.</summary>
    public static IPEndPoint Normalize(IPEndPoint endPoint)
        => endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;

    /// <summary>Errors that mean the peer or the network ended the connection: expected, not a fault of ours.</summary>
    public static bool IsConnectionReset(SocketError error) => error is SocketError.ConnectionReset
        or SocketError.ConnectionAborted
        or SocketError.Shutdown
        or SocketError.NetworkReset
        or SocketError.NetworkDown
        or SocketError.NetworkUnreachable
        or SocketError.HostDown
        or SocketError.HostUnreachable
        or SocketError.TimedOut
        or SocketError.NotConnected;

    /// <summary>Errors that mean this side closed the socket under a pending operation.</summary>
    public static bool IsLocalAbort(SocketError error) => error is SocketError.OperationAborted
        or SocketError.Interrupted
        or SocketError.InvalidArgument;

    /// <summary>The exception a connection's pipes complete with when the network fails it.</summary>
    public static IOException ToTransportException(SocketException exception) => IsConnectionReset(exception.SocketErrorCode)
        ? new ConnectionResetException(exception.Message, exception)
        : new IOException(exception.Message, exception);

    /// <summary>The exception a connection's pipes complete with after <see cref="IDuplexConnection.Abort"/>.</summary>
    public static ConnectionAbortedException Aborted(Exception? reason)
        => reason as ConnectionAbortedException ?? new ConnectionAbortedException("The connection was aborted.", reason);
}
