using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Transport;

/// <summary>
/// A connected socket as a pair of pipes, in the manner of Kestrel's <c>SocketConnection</c>: a receive loop fills
/// <see cref="Input"/> from the socket and a send loop drains <see cref="Output"/> into it. Each loop owns the pipe
/// end it uses; <see cref="Abort"/> only records a reason, closes the socket and wakes the loops, which then complete
/// their ends with that reason.
/// </summary>
internal sealed partial class TcpConnection : IDuplexConnection
{
    private readonly Socket _socket;
    private readonly Pipe _input = new(TransportDefaults.InputPipeOptions);
    private readonly Pipe _output = new(TransportDefaults.OutputPipeOptions);
    private readonly SocketSender _sender = new();
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _closeTimeout;
    private readonly Action<TcpConnection>? _onClosed;
    private Task _receiveTask = Task.CompletedTask;
    private Task _sendTask = Task.CompletedTask;
    private Exception? _shutdownReason;
    private int _socketClosed;
    private int _disposed;
    private long _bytesReceived;
    private long _bytesSent;

    /// <summary>Wraps a connected socket; <see cref="Start"/> starts the loops.</summary>
    public TcpConnection(Socket socket, TimeProvider timeProvider, TimeSpan closeTimeout, Action<TcpConnection>? onClosed)
    {
        _socket = socket;
        _timeProvider = timeProvider;
        _closeTimeout = closeTimeout;
        _onClosed = onClosed;
        RemoteEndPoint = TransportDefaults.Normalize((IPEndPoint)socket.RemoteEndPoint!);
        LocalEndPoint = TransportDefaults.Normalize((IPEndPoint)socket.LocalEndPoint!);
    }

    /// <inheritdoc />
    public PipeReader Input => _input.Reader;

    /// <inheritdoc />
    public PipeWriter Output => _output.Writer;

    /// <inheritdoc />
    public IPEndPoint RemoteEndPoint { get; }

    /// <inheritdoc />
    public IPEndPoint LocalEndPoint { get; }

    /// <inheritdoc />
    public long BytesReceived => Volatile.Read(ref _bytesReceived);

    /// <inheritdoc />
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>The socket, for tests and diagnostics; the connection owns it.</summary>
    internal Socket Socket => _socket;

    /// <summary>Starts the receive and send loops.</summary>
    public void Start()
    {
        _receiveTask = ReceiveLoopAsync();
        _sendTask = SendLoopAsync();
    }

    /// <inheritdoc />
    public void Abort(Exception? reason = null)
    {
        Interlocked.CompareExchange(ref _shutdownReason, TransportDefaults.Aborted(reason), null);
        CloseSocket(reset: true);

        // Wake a send loop waiting for data and a receive loop waiting on backpressure; both are thread-safe.
        _output.Reader.CancelPendingRead();
        _input.Writer.CancelPendingFlush();
    }

    /// <summary>
    /// Completes both pipes, lets the send loop hand what was already flushed to the socket (for at most the close
    /// timeout, after which it aborts), then closes the socket. Call it once the code reading and writing the pipes
    /// has stopped; to stop such code first, <see cref="Abort"/>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            await _sendTask.WaitAsync(_closeTimeout, _timeProvider).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            Abort(e);
        }

        CloseSocket(reset: false);
        await _sendTask.ConfigureAwait(false);
        await _receiveTask.ConfigureAwait(false);
        _sender.Dispose(); // The send loop, its only user, has ended.
        _onClosed?.Invoke(this);
    }

    /// <summary>Records the first reason the connection went down; later ones lose.</summary>
    private Exception SetShutdownReason(Exception reason)
        => Interlocked.CompareExchange(ref _shutdownReason, reason, null) ?? reason;

    private void CloseSocket(bool reset)
    {
        if (Interlocked.Exchange(ref _socketClosed, 1) != 0)
        {
            return;
        }

        if (reset)
        {
            try
            {
                // Linger 0: close sends a reset and drops unsent data, as an abort should.
                _socket.LingerState = new LingerOption(true, 0);
            }
            catch (SocketException)
            {
                // Already broken: closing is all that is left.
            }
        }

        // Closing fails any receive or send still pending, which is how the loops notice.
        _socket.Dispose();
    }

    public override string ToString() => $"tcp {LocalEndPoint} -> {RemoteEndPoint}";
}
