namespace PeerNet.Transport;

/// <summary>
/// This side aborted the connection (<see cref="IDuplexConnection.Abort"/>, or the transport was disposed). The inner
/// exception, if any, is the reason given to <c>Abort</c>.
/// </summary>
internal sealed class ConnectionAbortedException : IOException
{
    /// <summary>Creates the exception with a default message.</summary>
    public ConnectionAbortedException()
        : base("The connection was aborted.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConnectionAbortedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason for the abort.</summary>
    public ConnectionAbortedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
