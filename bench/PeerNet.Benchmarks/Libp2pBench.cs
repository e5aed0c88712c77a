using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using PeerNet.Libp2p;
using PeerNet.Transport;

namespace PeerNet.Benchmarks;

/// <summary>
/// PeerNet's side of bench/libp2p.sh, with the command line of the js-libp2p script beside the interop harness
/// (tests/PeerNet.Interop.Tests/libp2p-js/bench.mjs), so either side can dial either side; one JSON line out:
/// <list type="bullet">
/// <item><c>libp2p serve</c>: a <see cref="PeerNetNode"/> on 127.0.0.1 serving <see cref="Protocol"/>; prints its address; stops when stdin closes.</item>
/// <item><c>libp2p handshakes ADDR SECONDS DIALERS</c>: full dials (TCP connect, multistream, Noise XX, multistream, yamux),
/// each closed at once, DIALERS hosts dialling in a loop for SECONDS.</item>
/// <item><c>libp2p stream ADDR STREAMS BYTES</c>: one connection, STREAMS streams at once, each sending BYTES in 64 KiB
/// writes and waiting for the listener's count.</item>
/// </list>
/// The dialers use the node's own dial path (<see cref="TcpTransport"/>, <see cref="Libp2pSecurity"/>,
/// <see cref="Libp2pHost"/>, identify on connect as a node does) without the rest of a node, as js's dialers are bare
/// libp2p nodes.
/// </summary>
internal static class Libp2pBench
{
    /// <summary>The bench protocol: the dialer sends, then FINs; the listener counts to the end and answers with the count (8 bytes, big-endian).</summary>
    public const string Protocol = "/peernet/bench/1.0.0";

    private const int Chunk = 64 * 1024;

    public static async Task<int> RunAsync(string[] args)
    {
        switch (args)
        {
            case ["serve"]:
                await ServeAsync().ConfigureAwait(false);
                return 0;
            case ["handshakes", string address, string seconds, string dialers]:
                await HandshakesAsync(Multiaddr.Parse(address), double.Parse(seconds, CultureInfo.InvariantCulture), int.Parse(dialers, CultureInfo.InvariantCulture)).ConfigureAwait(false);
                return 0;
            case ["stream", string address, string streams, string bytes]:
                await StreamsAsync(Multiaddr.Parse(address), int.Parse(streams, CultureInfo.InvariantCulture), long.Parse(bytes, CultureInfo.InvariantCulture)).ConfigureAwait(false);
                return 0;
            default:
                await Console.Error.WriteLineAsync("usage: PeerNet.Benchmarks libp2p serve | handshakes ADDR SECONDS DIALERS | stream ADDR STREAMS BYTES").ConfigureAwait(false);
                return 2;
        }
    }

    private static void Emit(object value) => Console.WriteLine(JsonSerializer.Serialize(value));

    private static async Task ServeAsync()
    {
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false }).ConfigureAwait(false);
        node.Libp2p.SetStreamHandler(Protocol, async (stream, peer, ct) =>
        {
            byte[] buffer = new byte[Chunk];
            long count = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                count += read;
            }

            BinaryPrimitives.WriteInt64BigEndian(buffer, count);
            await stream.WriteAsync(buffer.AsMemory(0, 8), ct).ConfigureAwait(false);
            stream.CompleteWrites();
        });
        node.Libp2p.Host.ConnectionClosed += connection =>
        {
            if (connection.Session.EndedByProtocolError)
            {
                Console.Error.WriteLine($"libp2p serve: the session with {connection.RemotePeer} ended: {connection.Session.CloseReason}");
            }
        };
        Emit(new { @event = "ready", addrs = node.Libp2p.ListenAddresses.Select(a => a.ToString()).ToArray() });
        await Console.In.ReadToEndAsync().ConfigureAwait(false);
    }

    private sealed class Dialer(TcpTransport transport, NodeIdentity identity) : IAsyncDisposable
    {
        public Dialer(TcpTransport transport)
            : this(transport, NodeIdentity.CreateEphemeral())
        {
        }

        public Libp2pHost Host { get; } = new(identity);

        public async Task<Libp2pConnection> DialAsync(Multiaddr address, CancellationToken ct)
        {
            IReadOnlyList<MultiaddrComponent> parts = address.Components;
            var endPoint = new IPEndPoint(IPAddress.Parse(parts[0].Value), int.Parse(parts[1].Value, CultureInfo.InvariantCulture));
            IDuplexConnection raw = await transport.ConnectAsync(endPoint, ct).ConfigureAwait(false);
            try
            {
                SecuredLibp2pConnection secured = await Libp2pSecurity.SecureOutboundAsync(raw, identity, address.PeerId, ct).ConfigureAwait(false);
                return await Host.AddConnectionAsync(secured.Connection, secured.RemotePeer, initiator: true, ct).ConfigureAwait(false);
            }
            catch
            {
                await raw.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }

        public ValueTask DisposeAsync() => Host.DisposeAsync();
    }

    private static async Task HandshakesAsync(Multiaddr address, double seconds, int dialers)
    {
        await using var transport = new TcpTransport();
        Dialer[] hosts = [.. Enumerable.Range(0, dialers).Select(_ => new Dialer(transport))];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds + 60));
        async Task DialOnceAsync(Dialer dialer)
        {
            Libp2pConnection connection = await dialer.DialAsync(address, cts.Token).ConfigureAwait(false);
            await connection.Session.DisposeAsync().ConfigureAwait(false);
        }

        foreach (Dialer dialer in hosts)
        {
            for (int i = 0; i < 10; i++)
            {
                await DialOnceAsync(dialer).ConfigureAwait(false); // warm-up
            }
        }

        long count = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan end = TimeSpan.FromSeconds(seconds);
        await Task.WhenAll(hosts.Select(dialer => Task.Run(async () =>
        {
            while (clock.Elapsed < end)
            {
                await DialOnceAsync(dialer).ConfigureAwait(false);
                Interlocked.Increment(ref count);
            }
        }))).ConfigureAwait(false);
        double elapsed = clock.Elapsed.TotalSeconds;
        foreach (Dialer dialer in hosts)
        {
            await dialer.DisposeAsync().ConfigureAwait(false);
        }

        Emit(new { count, seconds = elapsed, perSecond = count / elapsed });
    }

    private static async Task SendAsync(Libp2pHost host, Libp2pConnection connection, long bytes, CancellationToken ct)
    {
        await using YamuxStream stream = await host.OpenStreamAsync(connection, [Protocol], ct).ConfigureAwait(false);
        byte[] chunk = new byte[Chunk];
        Array.Fill(chunk, (byte)0x5a);
        for (long sent = 0; sent < bytes; sent += Chunk)
        {
            await stream.WriteAsync(chunk.AsMemory(0, (int)Math.Min(Chunk, bytes - sent)), ct).ConfigureAwait(false);
        }

        stream.CompleteWrites();
        await stream.ReadExactlyAsync(chunk.AsMemory(0, 8), ct).ConfigureAwait(false);
        long counted = BinaryPrimitives.ReadInt64BigEndian(chunk);
        if (counted != bytes || await stream.ReadAsync(chunk, ct).ConfigureAwait(false) != 0)
        {
            throw new IOException($"the listener counted {counted} bytes, not {bytes}");
        }
    }

    private static async Task StreamsAsync(Multiaddr address, int streams, long bytes)
    {
        await using var transport = new TcpTransport();
        await using var dialer = new Dialer(transport);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        Libp2pConnection connection = await dialer.DialAsync(address, cts.Token).ConfigureAwait(false);
        await SendAsync(dialer.Host, connection, 4 * 1024 * 1024, cts.Token).ConfigureAwait(false); // warm-up
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, streams).Select(_ => Task.Run(() => SendAsync(dialer.Host, connection, bytes, cts.Token)))).ConfigureAwait(false);
        double elapsed = clock.Elapsed.TotalSeconds;
        long total = streams * bytes;
        Emit(new { bytes = total, seconds = elapsed, mbPerSecond = total / 1e6 / elapsed });
        await connection.Session.DisposeAsync().ConfigureAwait(false);
    }
}
