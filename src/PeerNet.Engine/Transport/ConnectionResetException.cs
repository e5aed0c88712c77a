namespace PeerNet.Transport;

/// <summary>
/// The peer reset the connection or closed it while this side was still sending. An ordinary event in a swarm:
/// drop the peer, do not report a fault.
/// </summary>
internal sealed class ConnectionResetException : IOException
{
    /// <summary>Creates the exception with a default message.</summary>
    public ConnectionResetException()
        : base("The connection was reset by the peer.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConnectionResetException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the socket error that caused it.</summary>
    public ConnectionResetException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
