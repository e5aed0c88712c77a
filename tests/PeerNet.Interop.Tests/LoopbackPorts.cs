using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace PeerNet.Interop.Tests;

/// <summary>TCP ports on 127.0.0.1 for peers that must be told their port up front (Transmission, aria2, swarms).</summary>
internal static class LoopbackPorts
{
    /// <summary>A port the kernel just handed out as free (another process may still take it before us; rare).</summary>
    public static int GetFree()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)listener.LocalEndPoint!).Port;
    }

    /// <summary>
    /// Waits until some process listens on <paramref name="port"/> over IPv4 (127.0.0.1 or any address), read from
    /// /proc/net/tcp so that no test connection reaches the peer.
    /// </summary>
    public static async Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<string> describe, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (!IsListening(port))
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"nothing listens on 127.0.0.1:{port} after {timeout.TotalSeconds:F0} s.\n{describe()}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True when /proc/net/tcp has a socket in LISTEN state (0A) on 127.0.0.1:port or 0.0.0.0:port.</summary>
    public static bool IsListening(int port)
    {
        string suffix = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (string line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 3 && fields[3] == "0A" && fields[1].EndsWith(suffix, StringComparison.Ordinal)
                && (fields[1].StartsWith("0100007F", StringComparison.Ordinal) || fields[1].StartsWith("00000000", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }
}
