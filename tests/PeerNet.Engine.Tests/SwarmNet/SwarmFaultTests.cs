using System.IO.Pipelines;
using System.Net;
using PeerNet.Metainfo;
using PeerNet.PeerWire;
using PeerNet.Storage;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>Hostile peers, corrupt data, interrupted downloads and full disks.</summary>
public sealed class SwarmFaultTests
{
    [Theory]
    [InlineData(TorrentVersion.V1)]     // smart-ban: a failed piece's blocks are compared with the good copy later
    [InlineData(TorrentVersion.V2)]     // and BEP 52 block hashes name the bad block at once
    [InlineData(TorrentVersion.Hybrid)]
    public async Task CorruptSeeder_NoBadPieceWritten_SenderBanned_HonestSeedersNot(TorrentVersion version)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [400_000, 250_000, 33_333], pieceLength: 32 * 1024);
        // The honest seeders are slow, so the fast corrupt one certainly delivers blocks, alone and mixed into
        // pieces with honest blocks (the case where blame needs the per-block digests).
        SwarmSession honest1 = await harness.StartNodeAsync(uploadLimit: 200_000);
        SwarmSession honest2 = await harness.StartNodeAsync(uploadLimit: 200_000);
        SwarmSession corrupt = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(honest1, torrent, content);
        await SwarmHarness.SeedAsync(honest2, torrent, content);
        await SwarmHarness.SeedCorruptAsync(corrupt, torrent, content);
        SwarmSession leecher = await harness.StartNodeAsync();

        // Every byte storage writes must already be the right one: a piece is hashed before it is written.
        string folder = Path.Combine(harness.Root, "checked");
        Directory.CreateDirectory(folder);
        var wrong = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long written = 0;
        var disk = new HookedFileSystem((path, source, offset) =>
        {
            string expected = Path.Combine(content, Path.GetRelativePath(folder, path));
            if (!File.Exists(expected))
            {
                return; // resume data, not payload
            }

            Interlocked.Add(ref written, source.Length);
            using FileStream file = File.OpenRead(expected);
            byte[] original = new byte[source.Length];
            file.Position = offset;
            file.ReadExactly(original);
            if (!source.SequenceEqual(original))
            {
                wrong.Enqueue($"{path} at {offset}, {source.Length} bytes");
            }
        });
        var options = new TorrentOptions { UploadSlots = 0, Peers = [corrupt.LocalEndPoint!, honest1.LocalEndPoint!, honest2.LocalEndPoint!] };
        TorrentSwarm download = await leecher.AddTorrentAsync(torrent, folder, options, new StorageOptions { FileSystem = disk }, TestContext.Current.CancellationToken).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        await SwarmHarness.WaitCompletedAsync(download);

        Assert.Empty(wrong);
        Assert.True(written >= torrent.Files.Where(f => !f.IsPadFile).Sum(f => f.Length), $"only {written} payload bytes were written");
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.True(download.HashFailures > 0, "the corrupt seeder delivered no piece");
        Assert.Contains(corrupt.LocalEndPoint!.Address, download.Banned);
        Assert.DoesNotContain(honest1.LocalEndPoint!.Address, download.Banned);
        Assert.DoesNotContain(honest2.LocalEndPoint!.Address, download.Banned);
        TestContext.Current.TestOutputHelper?.WriteLine($"{download.HashFailures} hash failures, {download.BannedByBlockHashes} bans by BEP 52 block hashes");
    }

    [Fact]
    public async Task HostilePeer_OversizedLengthPrefix_IsDisconnected_OthersUnaffected()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [300_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        await using RawPeer hostile = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        hostile.Send([0x7F, 0xFF, 0xFF, 0xFF, 7]); // a 2 GiB "piece" message
        await hostile.AssertClosedAsync();

        SwarmSession leecher = await harness.StartNodeAsync();
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder]);
        await download.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
    }

    [Theory]
    [InlineData(1_000_000, 0)]  // piece index past the end
    [InlineData(0, 999_999)]    // begin past the piece
    public async Task HostilePeer_RequestOutOfRange_IsDisconnected(int piece, int begin)
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        await using RawPeer hostile = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        byte[] request = new byte[PeerMessageWriter.RequestLength];
        PeerMessageWriter.WriteRequest(request, new BlockRequest(piece, begin, 16384));
        hostile.Send(PeerMessageWriter.Interested.ToArray());
        hostile.Send(request);
        await hostile.AssertClosedAsync();
    }

    [Fact]
    public async Task ChokedPeer_IsServedItsAllowedFastPieces_AndRejectedOthers()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [1_000_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        // Never interested, so never unchoked: only BEP 6 allowed-fast pieces can be served.
        await using RawPeer peer = await RawPeer.ConnectAsync(harness.Network, seeder, torrent);
        var granted = new HashSet<int>();
        while (granted.Count < AllowedFastSet.Size)
        {
            granted.Add((await peer.ReadUntilAsync(PeerMessageId.AllowedFast)).Piece);
        }

        int fast = granted.Min(); // never the short last piece (the set is random per address): its second block does not exist
        int other = Enumerable.Range(0, torrent.PieceCount).First(p => !granted.Contains(p));
        byte[] request = new byte[PeerMessageWriter.RequestLength];
        PeerMessageWriter.WriteRequest(request, new BlockRequest(other, 0, 16384));
        peer.Send(request);
        Assert.Equal(other, (await peer.ReadUntilAsync(PeerMessageId.Reject)).Piece);

        PeerMessageWriter.WriteRequest(request, new BlockRequest(fast, 16384, 16384));
        peer.Send(request);
        RawMessage block = await peer.ReadUntilAsync(PeerMessageId.Piece);
        Assert.Equal((fast, 16384), (block.Piece, block.Begin));
        byte[] expected = new byte[16384];
        await using (FileStream file = File.OpenRead(Directory.GetFiles(content, "*", SearchOption.AllDirectories).Single()))
        {
            file.Seek(((long)fast * torrent.PieceLength) + 16384, SeekOrigin.Begin);
            await file.ReadExactlyAsync(expected, TestContext.Current.CancellationToken);
        }

        Assert.Equal(expected, block.Payload);
    }

    [Fact]
    public async Task HostilePeer_WrongInfoHash_GetsNoHandshake()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [100_000]);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        InMemoryTransport transport = harness.Network.CreateTransport(IPAddress.Parse("10.9.9.9"));
        await using IDuplexConnection connection = await transport.ConnectAsync(seeder.LocalEndPoint!, TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        byte[] handshake = new byte[Handshake.Length];
        new Handshake(HandshakeReserved.FastExtension, Sha1Hash.Compute("another torrent"u8), new PeerId(new byte[20])).WriteTo(handshake);
        await connection.Output.WriteAsync(handshake, TestContext.Current.CancellationToken);
        // The node closes (or resets) the connection without a byte of handshake.
        try
        {
            ReadResult result = await connection.Input.ReadAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
            Assert.True(result.IsCompleted && result.Buffer.IsEmpty, "the node answered a handshake for a torrent it does not have");
        }
        catch (ConnectionResetException)
        {
        }
    }

    [Fact]
    public async Task StoppedHalfway_Restart_DoesNotFetchVerifiedPiecesAgain()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [3_000_000], pieceLength: 32 * 1024);
        SwarmSession seeder = await harness.StartNodeAsync(uploadLimit: 2_000_000);
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        string folder = Path.Combine(harness.Root, "resumed");
        string resume = Path.Combine(harness.Root, "resume-data");
        var options = new TorrentOptions { UploadSlots = 0, ResumeDirectory = resume };

        SwarmSession first = await harness.StartNodeAsync();
        (TorrentSwarm partial, _) = await harness.LeechAsync(first, torrent, [seeder], options, folder);
        await Poll.UntilAsync(
            () => partial.GetStatus().Progress >= 0.3 || partial.Completed.IsCompleted,
            "30 % downloaded",
            SwarmHarness.Timeout,
            TimeSpan.FromMilliseconds(50),
            partial.DescribeState);
        Assert.False(partial.Completed.IsCompleted, "finished before it could be interrupted");

        await first.DisposeAsync().AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        int verifiedBefore = partial.GetStatus().PiecesVerified;

        SwarmSession second = await harness.StartNodeAsync();
        (TorrentSwarm resumed, _) = await harness.LeechAsync(second, torrent, [seeder], options, folder);
        Assert.Equal(verifiedBefore, resumed.PiecesFoundAtStart);
        await resumed.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);

        SwarmHarness.AssertSameFiles(torrent, content, folder);
        long remaining = torrent.TotalSize - ((long)verifiedBefore * torrent.PieceLength);
        long received = resumed.GetStatus().Downloaded;
        Assert.True(received <= remaining + (8 * torrent.PieceLength), $"received {received} bytes after restart, but only {remaining} were missing");
    }

    [Fact]
    public async Task DiskFull_StopsWithClearError_KeepsVerifiedData_AndResumesWhenSpaceReturns()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [1_000_000], pieceLength: 32 * 1024);
        SwarmSession seeder = await harness.StartNodeAsync();
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        string folder = Path.Combine(harness.Root, "small-disk");
        Directory.CreateDirectory(folder);
        string resume = Path.Combine(harness.Root, "resume-data");
        var disk = HookedFileSystem.WithByteBudget(400_000);

        SwarmSession first = await harness.StartNodeAsync();
        TorrentSwarm full = await first.AddTorrentAsync(torrent, folder, new TorrentOptions { Peers = [seeder.LocalEndPoint!], ResumeDirectory = resume }, new StorageOptions { FileSystem = disk }, TestContext.Current.CancellationToken).WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        IOException error = await Assert.ThrowsAnyAsync<IOException>(() => full.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken));
        Assert.Contains("disk full", error.Message, StringComparison.Ordinal);
        Assert.Equal(TorrentState.Error, full.State);
        int verified = full.GetStatus().PiecesVerified;
        Assert.InRange(verified, 1, torrent.PieceCount - 1);
        await first.DisposeAsync().AsTask().WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);

        // Space returns: a new session resumes from the verified pieces.
        SwarmSession second = await harness.StartNodeAsync();
        (TorrentSwarm resumed, _) = await harness.LeechAsync(second, torrent, [seeder], new TorrentOptions { ResumeDirectory = resume }, folder);
        Assert.Equal(verified, resumed.PiecesFoundAtStart);
        await resumed.Completed.WaitAsync(SwarmHarness.Timeout, TestContext.Current.CancellationToken);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
    }
}
