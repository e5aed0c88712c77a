using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace PeerNet.Transport;

/// <summary>
/// An ICMP error the kernel reported for one of our sends: the endpoint that datagram went to (the inner header's
/// destination, not the ICMP's sender, so it names the peer we wrote to) and what the error says.
/// </summary>
/// <param name="Destination">Where the datagram that drew the error was sent.</param>
/// <param name="Error">
/// <see cref="SocketError.ConnectionRefused"/> (port unreachable: nothing listens on that UDP port),
/// <see cref="SocketError.HostUnreachable"/> or <see cref="SocketError.NetworkUnreachable"/>; anything else is
/// <see cref="SocketError.SocketError"/>.
/// </param>
internal readonly record struct DatagramUnreachable(IPEndPoint Destination, SocketError Error);

/// <summary>A datagram socket that reports ICMP errors for its sends (real UDP on Linux).</summary>
internal interface IReportsUnreachable
{
    /// <summary>Called for each ICMP error, on a thread-pool thread (never inside a send or receive).</summary>
    Action<DatagramUnreachable>? Unreachable { get; set; }
}

/// <summary>
/// Linux's socket error queue (ip(7) <c>IP_RECVERR</c>, ipv6(7) <c>IPV6_RECVERR</c>). An unconnected UDP socket is
/// told nothing of the ICMP errors its sends draw unless <c>IP_RECVERR</c> is set; with it set, each error is queued
/// with the destination of the datagram that drew it (<c>msg_name</c>) and a <c>sock_extended_err</c> (errno, ICMP
/// origin, type and code), and the next send or receive on the socket fails once with that errno. The queue is read
/// with <c>recvmsg(MSG_ERRQUEUE)</c>, which .NET does not offer: a P/Invoke to libc's <c>recvmsg</c>.
/// </summary>
internal static partial class UdpErrorQueue
{
    private const int SolIp = 0;
    private const int IpRecvErr = 11;
    private const int SolIpv6 = 41;
    private const int Ipv6RecvErr = 25;
    private const int MsgErrQueue = 0x2000;
    private const int MsgDontWait = 0x40;
    private const byte OriginIcmp = 2;
    private const byte OriginIcmp6 = 3;
    private const int AfInet = 2;
    private const int AfInet6 = 10;
    private const int EConnRefused = 111;
    private const int EHostUnreach = 113;
    private const int ENetUnreach = 101;

    /// <summary>Errors read in one drain at most: the queue is bounded by the receive buffer, this by a number.</summary>
    private const int MaxPerDrain = 256;

    /// <summary>Turns error reporting on; false when the kernel refuses (the socket then behaves as before).</summary>
    [SupportedOSPlatform("linux")]
    public static bool Enable(Socket socket)
    {
        ReadOnlySpan<byte> on = BitConverter.GetBytes(1); // an int in the host's byte order
        bool enabled;
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            enabled = TrySet(socket, SolIpv6, Ipv6RecvErr, on);
            if (socket.DualMode)
            {
                TrySet(socket, SolIp, IpRecvErr, on); // IPv4 peers of a dual-mode socket report at the IPv4 level
            }
        }
        else
        {
            enabled = TrySet(socket, SolIp, IpRecvErr, on);
        }

        return enabled;
    }

    private static bool TrySet(Socket socket, int level, int name, ReadOnlySpan<byte> value)
    {
        try
        {
            socket.SetRawSocketOption(level, name, value);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Reads every queued error (up to a bound) into <paramref name="into"/>; never blocks.</summary>
    [SupportedOSPlatform("linux")]
    public static unsafe void Drain(Socket socket, List<DatagramUnreachable> into)
    {
        SafeHandle handle = socket.SafeHandle;
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            int fd = (int)handle.DangerousGetHandle();
            byte* name = stackalloc byte[128];
            byte* control = stackalloc byte[512];
            for (int i = 0; i < MaxPerDrain; i++)
            {
                var message = new MsgHdr { Name = (nint)name, NameLength = 128, Control = (nint)control, ControlLength = 512 };
                nint read = RecvMsg(fd, &message, MsgErrQueue | MsgDontWait);
                if (read < 0)
                {
                    return; // EAGAIN: the queue is empty (or the socket is closing)
                }

                if (TryParse(new ReadOnlySpan<byte>(name, (int)message.NameLength), new ReadOnlySpan<byte>(control, (int)message.ControlLength), out DatagramUnreachable error))
                {
                    into.Add(error);
                }
            }
        }
        catch (ObjectDisposedException)
        {
            // closed meanwhile
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>Reads one error-queue message: its <c>msg_name</c> and its <c>IP_RECVERR</c>/<c>IPV6_RECVERR</c> control message.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> name, ReadOnlySpan<byte> control, out DatagramUnreachable error)
    {
        error = default;
        if (ReadEndPoint(name) is not { } destination)
        {
            return false;
        }

        int word = IntPtr.Size; // cmsg_len is a size_t; the header is padded to it
        int headerLength = Align(word + 8, word);
        int offset = 0;
        while (offset + headerLength <= control.Length)
        {
            long length = word == 8 ? BitConverter.ToInt64(control[offset..]) : BitConverter.ToInt32(control[offset..]);
            int level = BitConverter.ToInt32(control[(offset + word)..]);
            int type = BitConverter.ToInt32(control[(offset + word + 4)..]);
            if (length < headerLength || offset + length > control.Length)
            {
                return false;
            }

            // struct sock_extended_err { u32 ee_errno; u8 ee_origin, ee_type, ee_code, ee_pad; u32 ee_info, ee_data; }
            if (((level == SolIp && type == IpRecvErr) || (level == SolIpv6 && type == Ipv6RecvErr)) && length >= headerLength + 8)
            {
                ReadOnlySpan<byte> extended = control[(offset + headerLength)..];
                int errno = BitConverter.ToInt32(extended);
                byte origin = extended[4];
                SocketError kind = origin is OriginIcmp or OriginIcmp6
                    ? errno switch
                    {
                        EConnRefused => SocketError.ConnectionRefused,
                        EHostUnreach => SocketError.HostUnreachable,
                        ENetUnreach => SocketError.NetworkUnreachable,
                        _ => SocketError.SocketError,
                    }
                    : SocketError.SocketError; // a local error (EMSGSIZE of path MTU discovery, say)
                error = new DatagramUnreachable(destination, kind);
                return true;
            }

            offset += Align((int)length, word);
        }

        return false;
    }

    private static int Align(int length, int word) => (length + word - 1) & ~(word - 1);

    /// <summary>A <c>sockaddr_in</c> or <c>sockaddr_in6</c> (an IPv4-mapped address is given back as IPv4).</summary>
    internal static IPEndPoint? ReadEndPoint(ReadOnlySpan<byte> sockaddr)
    {
        if (sockaddr.Length < 2)
        {
            return null;
        }

        int family = BitConverter.ToUInt16(sockaddr);
        if (family == AfInet && sockaddr.Length >= 8)
        {
            return new IPEndPoint(new IPAddress(sockaddr.Slice(4, 4)), BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
        }

        if (family == AfInet6 && sockaddr.Length >= 24)
        {
            var address = new IPAddress(sockaddr.Slice(8, 16), sockaddr.Length >= 28 ? BitConverter.ToUInt32(sockaddr[24..]) : 0);
            return new IPEndPoint(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address, BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]));
        }

        return null;
    }

    /// <summary>struct msghdr (its layout on every Linux ABI .NET runs on: pointers and size_t are native words).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public nint Name;
        public uint NameLength;
        public nint Iov;
        public nuint IovLength;
        public nint Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static unsafe partial nint RecvMsg(int socket, MsgHdr* message, int flags);
}
