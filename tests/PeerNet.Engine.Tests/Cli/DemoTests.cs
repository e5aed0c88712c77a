using PeerNet.Cli;
using PeerNet.Cli.Demo;

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
}
