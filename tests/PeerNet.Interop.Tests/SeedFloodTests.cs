using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using PeerNet.Creation;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Swarm;

namespace PeerNet.Interop.Tests;

/// <summary>
/// A real <c>peernet seed</c> process under a flood from one host (four connections, the per-address cap, each
/// reconnecting when closed), while a <c>peernet get</c> downloads from it. The bar: the seeder's peak resident
/// memory stays under 300 MiB and the honest download completes. Before the fix, 13.6 MB of ut_metadata requests took a
/// seeder from 47 MiB to 3.4 GiB in 11 s. Each flood is bounded: 15 s (see <see cref="FloodTime"/>), and 128 MiB sent per attacker.
/// </summary>
[Collection(SwarmCollection.Name)]
public sealed class SeedFloodTests
{
    private const long RssBound = 300L * 1024 * 1024;
    private const int Connections = 4;
    private const long BytesPerAttacker = 128L * 1024 * 1024; // over all its connections
    /// <summary>15 s by default (at 6 s the old engine stayed under the bar in four floods of five); PEERNET_FLOOD_SECONDS sets another.</summary>
    private static readonly TimeSpan FloodTime = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("PEERNET_FLOOD_SECONDS"), CultureInfo.InvariantCulture, out int seconds) && seconds > 0 ? seconds : 15);

    public enum Flood
    {
        MetadataRequests,
        HashRequests,
        ChokedRequests,
        Cancels,
        UnreadBlocks,
    }

    [Theory(Timeout = 180_000)]
    [InlineData(Flood.MetadataRequests)]
    [InlineData(Flood.HashRequests)]
    [InlineData(Flood.ChokedRequests)]
    [InlineData(Flood.Cancels)]
    [InlineData(Flood.UnreadBlocks)]
    public async Task PeerNetSeed_UnderFlood_StaysUnder300MiB_AndServesAnHonestDownloader(Flood flood)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory($"pn-flood-{flood}");
        string content = SwarmContent.Write(temp.Combine("source"), 16 * 1024 * 1024, seed: 19);
        string torrentPath = temp.Combine("flood.torrent");
        byte[] torrentBytes = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = content, Version = TorrentVersion.Hybrid, PieceLength = 64 * 1024 }, cancellationToken: ct);
        await File.WriteAllBytesAsync(torrentPath, torrentBytes, ct);
        TorrentMetainfo torrent = TorrentMetainfo.Parse(torrentBytes);

        await using PeerNetProcess seeder = await PeerNetProcess.StartSeedAsync(torrentPath, content, new PeerNetOptions { Verbose = false }, ct);
        await seeder.Process.WaitForLineAsync(l => l.StartsWith("seeding ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), ct);
        long before = ReadKiB(seeder.Process.Id, "VmRSS") * 1024;
        var target = new IPEndPoint(IPAddress.Loopback, seeder.ListenPort);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        stop.CancelAfter(FloodTime);
        var attackers = new Attacker[Connections];
        Task[] floods = [.. Enumerable.Range(0, Connections).Select(i => (attackers[i] = new Attacker(target, torrent, flood)).RunAsync(stop.Token))];

        string download = temp.Combine("dl");
        await using PeerNetProcess leecher = await PeerNetProcess.StartGetAsync(torrentPath, download, new PeerNetOptions { Peers = [seeder.ListenPort] }, ct);
        await leecher.WaitForCompletionAsync(SwarmTest.TransferTimeout, seeding: false, ct);
        await Task.WhenAll(floods).WaitAsync(TimeSpan.FromSeconds(60), ct);

        long peak = ReadKiB(seeder.Process.Id, "VmHWM") * 1024;
        string report = string.Create(CultureInfo.InvariantCulture,
            $"{flood}: {attackers.Sum(a => a.Sent) / 1e6:F1} MB sent in {attackers.Sum(a => a.Connects)} connections ({attackers.Sum(a => a.Closed)} closed by the seeder); seeder RSS {before / 1048576.0:F0} MiB before, peak {peak / 1048576.0:F0} MiB");
        SwarmTest.Log(clock, report);
        Assert.False(seeder.Process.HasExited, "the seeder died under the flood\n" + seeder.Process.Describe());
        Assert.True(peak < RssBound, report);
        SwarmContent.AssertIdentical(content, Path.Combine(download, SwarmContent.FolderName));
        Assert.True(attackers.Sum(a => a.Sent) > 1_000_000, "the flood hardly reached the seeder: " + report);
    }

    /// <summary>A value in kB from /proc/PID/status (VmRSS: resident now; VmHWM: the peak).</summary>
    private static long ReadKiB(int pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>One flooding connection: handshakes, then writes its flood (never reading) until closed; then connects again.</summary>
    private sealed class Attacker(IPEndPoint target, TorrentMetainfo torrent, Flood flood)
    {
        public long Sent;
        public int Connects;
        public int Closed;
        private int _cancelled;

        public async Task RunAsync(CancellationToken stop)
        {
            byte[] batch = Batch();
            while (!stop.IsCancellationRequested && Sent < BytesPerAttacker)
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(target, stop);
                    Connects++;
                    await socket.SendAsync(Opening(), stop);
                    byte[] handshake = new byte[Handshake.Length];
                    await socket.ReceiveAsync(handshake, stop); // at least part of the seeder's handshake: it accepted us
                    while (!stop.IsCancellationRequested && Sent < BytesPerAttacker)
                    {
                        Sent += await socket.SendAsync(flood == Flood.Cancels ? Batch() : batch, stop); // cancels: each of another block
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (SocketException)
                {
                    Closed++;
                    await Task.Delay(50, CancellationToken.None);
                }
            }
        }

        /// <summary>The handshake (extension protocol, fast, v2), our extension handshake, and for unread blocks "interested".</summary>
        private byte[] Opening()
        {
            var output = new ArrayBufferWriter<byte>();
            Span<byte> id = stackalloc byte[PeerId.Length];
            "-FL0001-"u8.CopyTo(id);
            Random.Shared.NextBytes(id[8..]);
            output.Advance(new Handshake(HandshakeReserved.ExtensionProtocol | HandshakeReserved.FastExtension | HandshakeReserved.V2Upgrade, torrent.InfoHashes.WireHash, new PeerId(id)).WriteTo(output.GetSpan(Handshake.Length)));
            new ExtensionHandshake { Messages = new Dictionary<string, byte> { [TorrentSwarm.MetadataExtensionName] = 3 } }.WriteMessage(output);
            if (flood == Flood.UnreadBlocks)
            {
                output.Write(PeerMessageWriter.Interested.Span);
            }

            return output.WrittenSpan.ToArray();
        }

        /// <summary>64 KiB or so of the flood's messages.</summary>
        private byte[] Batch()
        {
            var output = new ArrayBufferWriter<byte>();
            for (int i = 0; output.WrittenCount < 64 * 1024; i++)
            {
                switch (flood)
                {
                    case Flood.MetadataRequests:
                        MetadataMessage.WriteRequest(output, TorrentSwarm.LocalMetadataExtensionId, 0);
                        break;
                    case Flood.HashRequests:
                        output.Advance(PeerMessageWriter.WriteHashRequest(output.GetSpan(PeerMessageWriter.HashRequestLength), PieceLayerRequest()));
                        break;
                    case Flood.ChokedRequests:
                    case Flood.UnreadBlocks:
                        output.Advance(PeerMessageWriter.WriteRequest(output.GetSpan(PeerMessageWriter.RequestLength), Block(i)));
                        break;
                    case Flood.Cancels:
                        // Never the same block twice (a cancel names any piece index): a node that remembers cancels grows.
                        output.Advance(PeerMessageWriter.WriteCancel(output.GetSpan(PeerMessageWriter.RequestLength), new BlockRequest(_cancelled++, 0, 16 * 1024)));
                        break;
                }
            }

            return output.WrittenSpan.ToArray();
        }

        private BlockRequest Block(int i) => new(i % torrent.PieceCount, i / torrent.PieceCount % 4 * 16 * 1024, 16 * 1024);

        /// <summary>The first file's whole piece layer, proved to its root: the seeder answers it from memory.</summary>
        private HashRequest PieceLayerRequest()
        {
            TorrentFile file = torrent.Files.First(f => f.PiecesRoot is not null && f.Length > torrent.PieceLength);
            int pieceLevel = System.Numerics.BitOperations.Log2((uint)(torrent.PieceLength / MerkleTree.BlockSize));
            int layers = MerkleProof.LayerCount(file.Length);
            int width = Math.Min(512, 1 << (layers - pieceLevel));
            return new HashRequest(file.PiecesRoot!.Value, pieceLevel, 0, width, layers - pieceLevel - 1);
        }
    }
}
