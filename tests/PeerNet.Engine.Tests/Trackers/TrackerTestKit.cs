using System.Buffers;
using PeerNet.Discovery.Trackers;
using PeerNet.PeerWire;
using PeerNet.Tracker;

namespace PeerNet.Engine.Tests.Trackers;

internal static class TrackerTestKit
{
    public static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    public static readonly Sha1Hash InfoHash = Sha1Hash.ParseHex("0123456789abcdef0123456789abcdef01234567");

    public static readonly PeerId PeerId = new("-PN0010-testtesttest"u8);

    /// <summary>Short waits, so retransmission and timeout tests take well under a second each.</summary>
    public static readonly TrackerClientOptions FastOptions = new()
    {
        HttpTimeout = TimeSpan.FromSeconds(2),
        UdpBaseTimeout = TimeSpan.FromMilliseconds(100),
        UdpMaxRetransmissions = 2,
        StopTimeout = TimeSpan.FromMilliseconds(500),
    };

    public static AnnounceRequest Request(TrackerEvent e = TrackerEvent.Started) => new()
    {
        InfoHash = InfoHash,
        PeerId = PeerId,
        Port = 6881,
        Left = 1000,
        Event = e,
        Key = 77,
    };

    public static byte[] Encode(AnnounceResponse response)
    {
        var output = new ArrayBufferWriter<byte>();
        HttpTrackerResponse.WriteAnnounce(output, response);
        return output.WrittenSpan.ToArray();
    }

    public static Task<T> Bounded<T>(this Task<T> task) => task.WaitAsync(TestTimeout, TestContext.Current.CancellationToken);

    public static Task Bounded(this Task task) => task.WaitAsync(TestTimeout, TestContext.Current.CancellationToken);

    /// <summary>Polls <paramref name="condition"/> every 5 ms until it holds; fails after <see cref="TestTimeout"/>.</summary>
    public static Task WaitForAsync(Func<bool> condition)
        => Poll.UntilAsync(condition, "condition", TestTimeout, TimeSpan.FromMilliseconds(5));

    /// <summary>A loopback TCP port nothing listens on (just released by the kernel).</summary>
    public static int UnusedTcpPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        return ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
    }
}
