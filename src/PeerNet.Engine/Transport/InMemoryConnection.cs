using System.IO.Pipelines;
using System.Net;

namespace PeerNet.Transport;

/// <summary>
/// One end of an in-memory connection: two pipes with the same backpressure as TCP, joined to the other end's by
/// an <see cref="InMemoryWire"/> per direction.
/// </summary>
internal sealed class InMemoryConnection : IDuplexConnection
{
    private readonly Pipe _input = new(TransportDefaults.InputPipeOptions);
    private readonly Pipe _output = new(TransportDefaults.OutputPipeOptions);
    private readonly InMemoryTransport _transport;
    private readonly bool _ownsLocalPort;
    private InMemoryWire? _outbound;
    private InMemoryWire? _inbound;
    private long _bytesReceived;
    private long _bytesSent;
    private int _disposed;

    private InMemoryConnection(InMemoryTransport transport, IPEndPoint local, IPEndPoint remote, bool ownsLocalPort)
    {
        _transport = transport;
        LocalEndPoint = local;
        RemoteEndPoint = remote;
        _ownsLocalPort = ownsLocalPort;
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
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <inheritdoc />
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>The end of this side's output pipe that its outbound wire reads.</summary>
    internal PipeReader OutgoingReader => _output.Reader;

    /// <summary>The end of this side's input pipe that its inbound wire writes.</summary>
    internal PipeWriter IncomingWriter => _input.Writer;

    /// <summary>The transport this end belongs to.</summary>
    internal InMemoryTransport Transport => _transport;

    /// <summary>
    /// Creates both ends of a connection from <paramref name="client"/> (at <paramref name="clientEndPoint"/>, a port
    /// it owns) to <paramref name="server"/> (at the listener's <paramref name="serverEndPoint"/>) and starts the wires.
    /// </summary>
    public static (InMemoryConnection Client, InMemoryConnection Server) CreatePair(
        InMemoryTransport client, IPEndPoint clientEndPoint, InMemoryTransport server, IPEndPoint serverEndPoint)
    {
        var a = new InMemoryConnection(client, clientEndPoint, serverEndPoint, ownsLocalPort: true);
        var b = new InMemoryConnection(server, serverEndPoint, clientEndPoint, ownsLocalPort: false);
        TimeProvider time = client.Network.TimeProvider;
        var up = new InMemoryWire(a, b, client.Link, client.UploadBucket, time);
        var down = new InMemoryWire(b, a, server.Link, server.UploadBucket, time);
        a._outbound = b._inbound = up;
        b._outbound = a._inbound = down;
        up.Start();
        down.Start();
        return (a, b);
    }

    /// <inheritdoc />
    public void Abort(Exception? reason = null)
    {
        ConnectionAbortedException aborted = TransportDefaults.Aborted(reason);
        _outbound!.Fail(aborted, new ConnectionResetException());
        _inbound!.Fail(new ConnectionResetException(), aborted);
    }

    /// <summary>
    /// Completes both pipes. Bytes already flushed still reach the peer, which then sees the end of the stream; its
    /// later flushes fail with <see cref="ConnectionResetException"/>. Returns at once, as a socket close does.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        _input.Reader.Complete();
        _output.Writer.Complete();
        _transport.Forget(this, _ownsLocalPort);
        return ValueTask.CompletedTask;
    }

    internal void AddSent(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    internal void AddReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    public override string ToString() => $"memory {LocalEndPoint} -> {RemoteEndPoint}";
}
