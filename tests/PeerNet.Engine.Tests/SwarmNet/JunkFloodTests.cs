using System.Buffers.Binary;
using System.Diagnostics;
using System.Security.Cryptography;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Issue 6: 80 maximum-size junk messages on one connection while a second peer is being served. The junk is
/// well-framed (a length prefix at the limit, not over it) and of kinds the engine ignores rather than refuses at
/// once; the engine ignores up to <see cref="PeerConnection.MaxIgnoredBytes"/> of them per connection and then
/// disconnects (and refuses oversized ut_metadata and hashes messages at once). The junk peer reconnects each time, so all 80 frames are sent.
/// </summary>
[Collection(MeasuredCollection.Name)]
public sealed class JunkFloodTests
{
    private const int JunkFrames = 80;
    private const int Requests = 20;
    private const int FramesPerRequest = JunkFrames / Requests;

    /// <summary>Issue 6's latency requirement for the honest peer's requests (a bound, not a speed benchmark).</summary>
    private static readonly TimeSpan RequestDeadline = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Most junk frames one connection takes before the node drops it: the budget (2 frames) and the frame that
    /// crosses it, plus what the pipes between the two ends hold (1 MiB pause threshold each, about 2 frames
    /// each with the frame in transit). Without the budget one connection takes all 80.
    /// </summary>
    private const int MaxFramesPerConnection = 12;

    public enum JunkKind
    {
        /// <summary>Message id 99, which no BEP defines: ignored (forward compatibility), within the budget.</summary>
        UnknownId,

        /// <summary>An extended message (BEP 10) with an id we never advertised: legal framing, useless.</summary>
        UnknownExtension,

        /// <summary>A BEP 52 hashes message nobody asked for, longer than any request of ours: refused at once.</summary>
        UnrequestedHashes,

        /// <summary>A ut_metadata message (our BEP 9 id) far longer than a 16 KiB metadata piece: refused at once.</summary>
        OversizedMetadata,
    }

    [Theory]
    [InlineData(JunkKind.UnknownId)]
    [InlineData(JunkKind.UnknownExtension)]
    [InlineData(JunkKind.UnrequestedHashes)]
    [InlineData(JunkKind.OversizedMetadata)]
    public async Task JunkFlood_80MaxSizeFrames_HonestRequestsAnsweredWithin2s_JunkPeerDisconnected(JunkKind kind)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [Requests * PeerWireLimits.BlockLength], pieceLength: 32 * 1024);
        byte[] data = await File.ReadAllBytesAsync(Path.Combine(content, "data.bin"), TestContext.Current.CancellationToken);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        await using RawPeer honest = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        await honest.BecomeInterestedAsync();
        byte[] frame = JunkFrame(kind, PeerWireLimits.MaxMessageLengthFor(torrent.PieceCount));
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        var latencies = new TimeSpan[Requests];
        await using (var junk = new JunkSender(() => RawPeer.ConnectAsync(harness.Network, seeder, torrent), frame))
        {
            for (int i = 0; i < Requests; i++)
            {
                // Four frames (2 MiB) go into the pipes, then the request follows while the node is still reading them.
                for (int j = 0; j < FramesPerRequest; j++)
                {
                    await junk.SendFrameAsync();
                }

                long start = Stopwatch.GetTimestamp();
                int piece = i * PeerWireLimits.BlockLength / (int)torrent.PieceLength;
                int begin = i * PeerWireLimits.BlockLength % (int)torrent.PieceLength;
                byte[] block = await honest.RequestAsync(piece, begin, PeerWireLimits.BlockLength, SwarmHarness.Timeout);
                latencies[i] = Stopwatch.GetElapsedTime(start);
                Assert.True(data.AsSpan(i * PeerWireLimits.BlockLength, PeerWireLimits.BlockLength).SequenceEqual(block), $"block {i} differs");
            }

            TestContext.Current.TestOutputHelper?.WriteLine($"{kind}: {junk.Sent} frames of {frame.Length} bytes over {junk.Connections} connections (at most {junk.MostOnOneConnection} on one); request latencies ms: {string.Join(' ', latencies.Select(l => ((int)l.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture)))}");
            Assert.Equal(JunkFrames, junk.Sent);
            Assert.InRange(junk.MostOnOneConnection, 1, MaxFramesPerConnection);
            Assert.True(junk.Connections >= JunkFrames / MaxFramesPerConnection, $"only {junk.Connections} connections carried {JunkFrames} frames");
        }

        for (int i = 0; i < Requests; i++)
        {
            Assert.True(latencies[i] < RequestDeadline, $"request {i} took {latencies[i].TotalMilliseconds:F0} ms");
        }

        // Nothing of the junk is kept: 40 MiB went through, the heap holds at most a few MiB more afterwards.
        long retained = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
        TestContext.Current.TestOutputHelper?.WriteLine($"heap growth after the flood: {retained / 1024} KiB");
        Assert.True(retained < 8L * 1024 * 1024, $"the heap grew by {retained} bytes over a {JunkFrames * (long)frame.Length}-byte flood");
        Assert.Equal(TorrentState.Seeding, seeder.Torrents.Single().State);
    }

    [Theory]
    [InlineData(JunkKind.UnrequestedHashes)]
    [InlineData(JunkKind.OversizedMetadata)]
    public async Task OversizedHashesOrMetadata_OneFrame_Disconnects(JunkKind kind)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        await using RawPeer hostile = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        hostile.Send(JunkFrame(kind, PeerWireLimits.MaxMessageLengthFor(torrent.PieceCount)));
        await hostile.AssertClosedAsync();
    }

    /// <summary>One whole frame, length prefix included, of exactly <paramref name="maxLength"/> after the prefix (hashes: the largest multiple of 32 that fits).</summary>
    private static byte[] JunkFrame(JunkKind kind, int maxLength)
    {
        int header = kind switch
        {
            JunkKind.UnknownId => 1,
            JunkKind.UnknownExtension or JunkKind.OversizedMetadata => 2,
            _ => 1 + HashRequest.WireLength,
        };
        int body = kind == JunkKind.UnrequestedHashes ? header + ((maxLength - header) / Sha256Hash.Length * Sha256Hash.Length) : maxLength;
        byte[] frame = RandomNumberGenerator.GetBytes(PeerFrameReader.LengthPrefixSize + body);
        BinaryPrimitives.WriteInt32BigEndian(frame, body);
        Span<byte> message = frame.AsSpan(PeerFrameReader.LengthPrefixSize);
        switch (kind)
        {
            case JunkKind.UnknownId:
                message[0] = 99;
                break;
            case JunkKind.UnknownExtension:
            case JunkKind.OversizedMetadata:
                message[0] = (byte)PeerMessageId.Extended;
                message[1] = kind == JunkKind.OversizedMetadata ? TorrentSwarm.LocalMetadataExtensionId : (byte)0x77;
                break;
            default:
                message[0] = (byte)PeerMessageId.Hashes;
                // pieces root (random), then base layer 0, index 0, length and proof layers within range.
                BinaryPrimitives.WriteInt32BigEndian(message[(1 + Sha256Hash.Length)..], 0);
                BinaryPrimitives.WriteInt32BigEndian(message[(5 + Sha256Hash.Length)..], 0);
                BinaryPrimitives.WriteInt32BigEndian(message[(9 + Sha256Hash.Length)..], (body - header) / Sha256Hash.Length);
                BinaryPrimitives.WriteInt32BigEndian(message[(13 + Sha256Hash.Length)..], 0);
                break;
        }

        return frame;
    }

    /// <summary>Sends junk frames one at a time, reconnecting whenever the node has dropped the connection.</summary>
    private sealed class JunkSender(Func<Task<RawPeer>> connect, byte[] frame) : IAsyncDisposable
    {
        private RawPeer? _peer;
        private int _onThisConnection;

        public int Sent { get; private set; }

        public int Connections { get; private set; }

        public int MostOnOneConnection { get; private set; }

        public async Task SendFrameAsync()
        {
            for (int attempt = 0; attempt < 100; attempt++)
            {
                if (_peer is null)
                {
                    _peer = await connect();
                    Connections++;
                    _onThisConnection = 0;
                }

                try
                {
                    await _peer.SendAsync(frame);
                    Sent++;
                    MostOnOneConnection = Math.Max(MostOnOneConnection, ++_onThisConnection);
                    return;
                }
                catch (Exception e) when (e is IOException or InvalidOperationException)
                {
                    await _peer.DisposeAsync();
                    _peer = null;
                }
            }

            Assert.Fail("could not send a junk frame in 100 connections");
        }

        public async ValueTask DisposeAsync()
        {
            if (_peer is not null)
            {
                await _peer.DisposeAsync();
            }
        }
    }
}
