using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;
using PeerNet.Cli;
using PeerNet.Cli.Demo;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// <c>peernet demo</c> at a small scale: a few leechers, a couple of MiB, caps high enough to finish in seconds
/// and low enough that the seeder alone would be slower. Times are not asserted, only what happened.
/// </summary>
public sealed class DemoTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    private readonly string _dir = Directory.CreateTempSubdirectory("peernet-demo-test-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DemoOptions Small(int seed) => new()
    {
        Peers = 4,
        Size = 1L << 20,
        SeedRate = 1L << 20,
        PeerRate = 4L << 20,
        Seed = seed,
        ChurnDowntime = TimeSpan.FromMilliseconds(500),
        TempRoot = _dir,
    };

    private static async Task<DemoResult> RunAsync(DemoOptions options)
    {
        await using var swarm = new DemoSwarm(options);
        return await swarm.RunAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task DemoCommand_SmallRun_ExitsZeroWithEveryCopyVerified()
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exit = await PeerNetCli.RunAsync(["demo", "--peers", "3", "--size", "1M", "--seed-rate", "512K", "--peer-rate", "2M", "--seed", "5"], stdout, stderr, TestContext.Current.CancellationToken)
            .WaitAsync(Timeout, TestContext.Current.CancellationToken);

        Assert.Equal("", stderr.ToString());
        Assert.Equal(0, exit);
        string output = stdout.ToString();
        Assert.Contains("no tracker, DHT or PEX yet", output, StringComparison.Ordinal);
        Assert.Contains("3/3 byte-identical to the original", output, StringComparison.Ordinal);
        Assert.Contains("client-server: 3 × 1 MiB ÷ 512 KiB/s", output, StringComparison.Ordinal);
        Assert.Contains("OK: every copy verified.", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DemoSwarm_SmallRun_LeechersShareAndUploadsCoverEveryCopy()
    {
        DemoOptions options = Small(seed: 1);
        DemoResult result = await RunAsync(options);

        Assert.True(result.Success, result.Failure);
        Assert.Equal(options.Peers, result.CopiesVerified);
        Assert.True(result.SeederUploaded + result.LeecherUploaded >= options.Peers * options.Size,
            $"seeder {result.SeederUploaded} + leechers {result.LeecherUploaded} < {options.Peers} copies of {options.Size}");
        Assert.True(result.LeecherUploaded > 0, "the leechers uploaded nothing: no peer-to-peer happened");
        Assert.True(result.SeederShare < 1);
        Assert.Empty(Directory.GetFileSystemEntries(_dir)); // the temporary folder is gone
    }

    [Fact]
    public async Task DemoSwarm_Keep_LeavesContentTorrentAndCopies()
    {
        await using var swarm = new DemoSwarm(Small(seed: 2) with { Peers = 2, Keep = true });
        DemoResult result = await swarm.RunAsync(TestContext.Current.CancellationToken).WaitAsync(Timeout, TestContext.Current.CancellationToken);
        await swarm.DisposeAsync();

        Assert.True(result.Success, result.Failure);
        Assert.True(File.Exists(Path.Combine(swarm.Root!, "peernet-demo.torrent")));
        Assert.True(File.Exists(Path.Combine(swarm.Root!, "peers", "peer-02", "peernet-demo.bin")));
    }

    [Fact]
    public async Task DemoSwarm_BadPeer_IsBannedAndHonestCopiesStillVerify()
    {
        DemoResult result = await RunAsync(Small(seed: 3) with { BadPeer = true });

        Assert.True(result.Success, result.Failure);
        Assert.True(result.HadBadPeer);
        Assert.True(result.BannedBadPeer > 0, "no leecher banned the bad peer");
        Assert.True(result.HashFailures > 0);
        Assert.True(result.BadPeerUploaded > 0);
        Assert.All(result.Copies, c => Assert.True(c.Verified, c.Name));
    }

    [Fact]
    public async Task DemoSwarm_Churn_RejoiningPeerDoesNotFetchItsVerifiedPiecesAgain()
    {
        DemoOptions options = Small(seed: 4) with { Churn = true, Size = 2L << 20 };
        DemoResult result = await RunAsync(options);

        Assert.True(result.Success, result.Failure);
        (string name, DemoRejoin rejoin) = Assert.Single(result.Rejoins);
        Assert.True(rejoin.PiecesAtLeave > 0, $"{name} left before verifying any piece");
        Assert.True(rejoin.PiecesFoundOnRejoin >= rejoin.PiecesAtLeave, $"{name} had {rejoin.PiecesAtLeave} pieces but found {rejoin.PiecesFoundOnRejoin}");

        // What it received after rejoining fits in what it lacked (a few blocks of slack for in-flight answers).
        long fetched = rejoin.DownloadedAfter - rejoin.WastedAfter;
        Assert.True(fetched <= rejoin.MissingBytes + (8 * result.PieceLength), $"{name} fetched {fetched} bytes after rejoining but lacked at most {rejoin.MissingBytes}");
    }

    [Fact]
    public async Task DemoBadPeer_Request_AnswersTheTrueBlockWithOneByteFlipped()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TorrentMetainfo torrent, byte[] data, string path) = await CreateContentAsync(100_000);
        await using DemoBadPeer bad = DemoBadPeer.Start(IPAddress.Loopback, torrent, path, uploadRate: 0);
        using var client = new TcpClient();
        await client.ConnectAsync(bad.LocalEndPoint, ct).AsTask().WaitAsync(Timeout, ct);
        NetworkStream stream = client.GetStream();

        // Its handshake echoes ours, with no extension offered.
        await stream.WriteAsync(Handshake(torrent.InfoHashes.WireHash), ct);
        byte[] handshake = await ReadAsync(stream, 68);
        Assert.Equal(Handshake(torrent.InfoHashes.WireHash).AsSpan(0, 48).ToArray(), handshake.AsSpan(0, 48).ToArray());

        // A full bitfield (spare bits clear), then an unchoke once we are interested.
        byte[] bitfield = await ReadMessageAsync(stream);
        Assert.Equal(5, bitfield[0]);
        Assert.Equal((torrent.PieceCount + 7) / 8, bitfield.Length - 1);
        Assert.Equal(torrent.PieceCount, bitfield.AsSpan(1).ToArray().Sum(b => BitOperations.PopCount(b)));
        await stream.WriteAsync(new byte[] { 0, 0, 0, 1, 2 }, ct);
        Assert.Equal([1], await ReadMessageAsync(stream));

        // Every request is answered with the true block but one byte.
        byte[] request = new byte[17];
        BinaryPrimitives.WriteInt32BigEndian(request, 13);
        request[4] = 6;
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(5), 1);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(9), 16384);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(13), 16384);
        await stream.WriteAsync(request, ct);
        byte[] piece = await ReadMessageAsync(stream);
        Assert.Equal(7, piece[0]);
        Assert.Equal(request.AsSpan(5, 8).ToArray(), piece.AsSpan(1, 8).ToArray());
        byte[] block = piece[9..];
        byte[] truth = data.AsSpan((int)torrent.PieceLength + 16384, 16384).ToArray();
        Assert.Equal(16384, block.Length);
        Assert.Single(Enumerable.Range(0, block.Length), i => block[i] != truth[i]);

        // Counted once its write returns, which can be just after the block reached us.
        await Poll.UntilAsync(() => bad.Uploaded >= 16384, "the bad peer counts the block it sent", Timeout);
        Assert.Equal(16384, bad.Uploaded);
    }

    [Fact]
    public async Task DemoBadPeer_OtherTorrentsHandshake_IsClosedUnanswered()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        (TorrentMetainfo torrent, _, string path) = await CreateContentAsync(20_000);
        await using DemoBadPeer bad = DemoBadPeer.Start(IPAddress.Loopback, torrent, path, uploadRate: 0);
        using var client = new TcpClient();
        await client.ConnectAsync(bad.LocalEndPoint, ct).AsTask().WaitAsync(Timeout, ct);
        NetworkStream stream = client.GetStream();

        await stream.WriteAsync(Handshake(Sha1Hash.Compute([1, 2, 3])), ct);
        Assert.Equal(0, await stream.ReadAsync(new byte[68], ct).AsTask().WaitAsync(Timeout, ct));
    }

    private async Task<(TorrentMetainfo Torrent, byte[] Data, string Path)> CreateContentAsync(int size)
    {
        byte[] data = RandomNumberGenerator.GetBytes(size);
        string path = Path.Combine(_dir, "content.bin");
        await File.WriteAllBytesAsync(path, data, TestContext.Current.CancellationToken);
        byte[] torrent = await TorrentCreator.CreateAsync(new TorrentCreationOptions { SourcePath = path, PieceLength = 32 * 1024 }, cancellationToken: TestContext.Current.CancellationToken);
        return (TorrentMetainfo.Parse(torrent), data, path);
    }

    private static byte[] Handshake(Sha1Hash infoHash)
    {
        byte[] handshake = new byte[68];
        handshake[0] = 19;
        "BitTorrent protocol"u8.CopyTo(handshake.AsSpan(1));
        infoHash.CopyTo(handshake.AsSpan(28));
        "-TT0001-"u8.CopyTo(handshake.AsSpan(48));
        return handshake;
    }

    private static async Task<byte[]> ReadAsync(NetworkStream stream, int length)
    {
        byte[] bytes = new byte[length];
        await stream.ReadExactlyAsync(bytes, TestContext.Current.CancellationToken).AsTask().WaitAsync(Timeout, TestContext.Current.CancellationToken);
        return bytes;
    }

    /// <summary>The next message's id and payload, without its length prefix.</summary>
    private static async Task<byte[]> ReadMessageAsync(NetworkStream stream)
        => await ReadAsync(stream, BinaryPrimitives.ReadInt32BigEndian(await ReadAsync(stream, 4)));
}
