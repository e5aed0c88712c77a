using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using PeerNet.Transport;

namespace PeerNet.Diagnostics;

/// <summary>
/// Logs every outgoing connection that fails, with the peer and why (refused, timed out, unreachable), at Debug: the
/// swarm treats a failed dial as normal and retries after a backoff, so nothing else says it happened. Everything else
/// passes through to the transport it wraps (which it owns).
/// </summary>
internal sealed partial class DialLoggingTransport(IPeerTransport inner, ILogger logger) : IPeerTransport
{
    /// <summary>The transport it wraps.</summary>
    internal IPeerTransport Inner => inner;

    public ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken)
        => inner.ListenAsync(localEndPoint, cancellationToken);

    public async ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.ConnectAsync(remote, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            DialFailed(logger, remote, Reason(e));
            throw;
        }
        catch (Exception e) when (e is IOException or TimeoutException)
        {
            DialFailed(logger, remote, e.Message);
            throw;
        }
        catch (OperationCanceledException)
        {
            // The session's connect timeout (uTP's 3 s then TCP, 10 s in all) ends a dial to a silent peer this way.
            DialFailed(logger, remote, "timed out or cancelled");
            throw;
        }
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    /// <summary>The socket error in words a user reads: "connection refused", "timed out", "network unreachable".</summary>
    private static string Reason(SocketException e) => e.SocketErrorCode switch
    {
        SocketError.ConnectionRefused => "connection refused (nothing listens on that port)",
        SocketError.TimedOut => "timed out (no answer)",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.AddressNotAvailable => "address not available from this host",
        _ => e.Message,
    };

    [LoggerMessage(404, LogLevel.Debug, "dial to {Peer} failed: {Reason}")]
    private static partial void DialFailed(ILogger logger, IPEndPoint peer, string reason);
}
