namespace PeerNet.Transport;

/// <summary>How a uTP connection ended, or why a connect failed (a tag of the node's <c>peernet.utp.*</c> instruments).</summary>
internal enum UtpEnd
{
    /// <summary>Both sides finished (FINs acked), or the connection was disposed after ours was.</summary>
    Closed,

    /// <summary>The peer sent a reset (to a SYN: the connect was refused).</summary>
    Reset,

    /// <summary>No answer in time: the connect timeout, the idle timeout, or too many retransmission timeouts in a row.</summary>
    Timeout,

    /// <summary>Closed by us: aborted, cancelled, its accept queue full, or its close timed out.</summary>
    Aborted,

    /// <summary>An ICMP error for the SYN (port, host or network unreachable).</summary>
    Unreachable,
}

/// <summary>
/// What one <see cref="UtpSocketManager"/> and its connections counted since it started, for the node's
/// <c>peernet.utp.*</c> instruments (read when a listener asks: observable instruments, so what the packet path pays is a
/// field increment, atomic where several threads write). The SYN counts the doctor shows are the manager's own.
/// </summary>
internal sealed class UtpCounters
{
    /// <summary>The <see cref="UtpEnd"/> values, for indexing.</summary>
    public const int Ends = 5;

    /// <summary>Datagrams the demultiplexer handed to uTP (valid or not); the receive loop's only: one writer.</summary>
    public long PacketsReceived;

    /// <summary>Their bytes (UDP payload); one writer, as above.</summary>
    public long BytesReceived;

    /// <summary>Datagrams uTP sent (data, acks, SYNs, answers, resets), whether the socket took them or not.</summary>
    public long PacketsSent;

    /// <summary>Their bytes (UDP payload).</summary>
    public long BytesSent;

    /// <summary>Data and FIN packets sent again (lost by duplicate or selective acks, or by a timeout).</summary>
    public long Retransmissions;

    /// <summary>Retransmission timeouts: an established connection's RTO, or a connect's SYN timer, fired.</summary>
    public long Timeouts;

    /// <summary>SYNs refused because the half-open table was full.</summary>
    public long SynsRefusedTableFull;

    /// <summary>SYNs refused because their address's share of the half-open table was full.</summary>
    public long SynsRefusedAddressFull;

    /// <summary>SYNs refused (answered with a reset, within the reset rate) because incoming uTP is off or the manager is stopping.</summary>
    public long SynsRefusedNotAccepting;

    /// <summary>Half-open entries forgotten after the half-open timeout, their answer never acked (a forged source, or lost).</summary>
    public long HalfOpenExpired;

    /// <summary>Packets naming a half-open entry whose ack was not of our answer (its sender never saw it): dropped.</summary>
    public long HalfOpenBadAcks;

    /// <summary>Outgoing connections established (incoming ones are <see cref="UtpSocketManager.AcceptedCount"/>).</summary>
    public long OpenedOut;

    /// <summary>Established connections ended, by direction (0 in, 1 out) × <see cref="UtpEnd"/>.</summary>
    public readonly long[] Closed = new long[2 * Ends];

    /// <summary>Connects that failed before their SYN was answered, by <see cref="UtpEnd"/>.</summary>
    public readonly long[] ConnectsFailed = new long[Ends];

    /// <summary>Counts an established connection's end.</summary>
    public void CountClosed(bool outgoing, UtpEnd end) => Interlocked.Increment(ref Closed[((outgoing ? 1 : 0) * Ends) + (int)end]);

    /// <summary>Counts a failed connect.</summary>
    public void CountConnectFailed(UtpEnd end) => Interlocked.Increment(ref ConnectsFailed[(int)end]);

    /// <summary>Established connections ended in one direction, every way.</summary>
    public long ClosedTotal(bool outgoing)
    {
        long total = 0;
        for (int i = 0; i < Ends; i++)
        {
            total += Interlocked.Read(ref Closed[((outgoing ? 1 : 0) * Ends) + i]);
        }

        return total;
    }
}
