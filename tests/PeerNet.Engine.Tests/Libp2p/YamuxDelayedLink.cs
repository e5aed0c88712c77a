using System.Net;
using PeerNet.Engine.Tests.Transport;
using PeerNet.Libp2p;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>
/// A writer (the initiator, no resource manager) and a reader (the responder, whose connection is reserved in
/// <see cref="Resources"/>) over an in-memory link that delays each direction by the same latency; and a writer and a
/// reader for one stream over it, whose bytes follow a fixed pattern the reader checks. Shared by the window-tuning
/// tests and their figures.
/// </summary>
internal sealed class YamuxDelayedLink : IAsyncDisposable
{
    /// <summary>Every flood stops here at the latest.</summary>
    public const long WriteCap = 64L * 1024 * 1024;

    /// <summary>What a stream carries, over and over: random bytes, an odd length so that the pattern shifts against the writes.</summary>
    private static readonly byte[] Pattern = CreatePattern(1024 * 1024 + 1);

    private YamuxDelayedLink(YamuxSession writer, YamuxSession reader, Libp2pResourceManager resources, Libp2pPeerId writerId)
    {
        Writer = writer;
        Reader = reader;
        Resources = resources;
        WriterId = writerId;
    }

    public YamuxSession Writer { get; }

    public YamuxSession Reader { get; }

    public Libp2pResourceManager Resources { get; }

    public Libp2pPeerId WriterId { get; }

    /// <summary>The reader's reservations for the writer (memory 0 once nothing is held).</summary>
    public long PeerMemory => Resources.Snapshot().Peers.GetValueOrDefault(WriterId)?.Memory ?? 0;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static async Task<YamuxDelayedLink> CreateAsync(TimeSpan latency, YamuxOptions readerOptions, YamuxOptions? writerOptions = null, Libp2pResourceLimits? limits = null)
    {
        var network = new InMemoryNetwork();
        var shaped = new InMemoryLinkOptions { Latency = latency };
        var (listener, initiator, responder) = await TransportTestKit.ConnectPairAsync(
            network.CreateTransport(IPAddress.Parse("127.0.4.1"), shaped), network.CreateTransport(IPAddress.Parse("127.0.4.2"), shaped), new IPEndPoint(IPAddress.Parse("127.0.4.1"), 4001));
        await listener.DisposeAsync();
        var resources = new Libp2pResourceManager(limits);
        Libp2pPeerId writerId = NodeIdentity.CreateEphemeral().PeerId;

        // The writer's MaxSendWindow is the reader's maximum: a grant past it would end the session with a protocol error.
        var writer = new YamuxSession(initiator, isInitiator: true, writerOptions ?? new YamuxOptions { MaxSendWindow = readerOptions.MaxReceiveWindow });
        var reader = new YamuxSession(responder, isInitiator: false, readerOptions, resources.OpenConnection(writerId, inbound: true));
        writer.Start();
        reader.Start();
        return new YamuxDelayedLink(writer, reader, resources, writerId);
    }

    /// <summary>Writes the pattern in 256 KiB writes until <paramref name="stop"/> is set or <paramref name="cap"/> bytes are sent, then FIN.</summary>
    public static async Task<long> WriteUntilAsync(YamuxStream stream, Func<bool> stop, long cap = WriteCap)
    {
        const int Chunk = 256 * 1024;
        long sent = 0;
        while (!stop() && sent < cap)
        {
            int offset = (int)(sent % Pattern.Length);
            int n = (int)Math.Min(Math.Min(Chunk, Pattern.Length - offset), cap - sent);
            await stream.WriteAsync(Pattern.AsMemory(offset, n), Ct);
            sent += n;
        }

        stream.CompleteWrites();
        return sent;
    }

    /// <summary>
    /// Reads to the end, counting, and fails at the first byte that is not the writer's pattern; <paramref name="skip"/>
    /// bytes were read already (by the test), so the count and the pattern start there.
    /// </summary>
    public static async Task<long> ReadAllAsync(YamuxStream stream, Action<long>? progress = null, long skip = 0)
    {
        byte[] buffer = new byte[64 * 1024];
        long total = skip;
        int n;
        while ((n = await stream.ReadAsync(buffer, Ct)) > 0)
        {
            Assert.True(IsPattern(buffer.AsSpan(0, n), total), $"bytes {total}..{total + n} are not what was written");
            total += n;
            progress?.Invoke(total);
        }

        return total;
    }

    public async ValueTask DisposeAsync()
    {
        await Writer.DisposeAsync();
        await Reader.DisposeAsync();
    }

    private static bool IsPattern(ReadOnlySpan<byte> data, long position)
    {
        while (data.Length > 0)
        {
            int offset = (int)(position % Pattern.Length);
            int n = Math.Min(data.Length, Pattern.Length - offset);
            if (!data[..n].SequenceEqual(Pattern.AsSpan(offset, n)))
            {
                return false;
            }

            data = data[n..];
            position += n;
        }

        return true;
    }

    private static byte[] CreatePattern(int length)
    {
        byte[] pattern = new byte[length];
        new Random(17).NextBytes(pattern);
        return pattern;
    }
}
