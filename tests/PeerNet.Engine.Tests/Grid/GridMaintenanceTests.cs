using System.Net;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Engine.Tests.Storage;
using PeerNet.Grid;
using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Grid;

/// <summary>
/// The owner's maintenance schedule and the provider's lease expiry, between PeerNet nodes in this process over libp2p
/// on 127.0.0.1, every node on one fake clock: the test moves the clock a wake at a time and waits for the owner's round
/// report, so nothing here sleeps.
/// </summary>
public sealed class GridMaintenanceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan Wake = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    /// <summary>Renew every 3 minutes a 10-minute lease; audits hourly unless a test asks for more.</summary>
    private static readonly GridMaintenanceOptions Schedule = new()
    {
        WakeInterval = Wake,
        Lease = Lease,
        RenewInterval = TimeSpan.FromMinutes(3),
        AuditInterval = TimeSpan.FromHours(1),
        Jitter = 0,
    };

    private sealed class Grid(TempDirectory folder, FakeTimeProvider time, PeerNetNode owner, List<PeerNetNode> providers) : IAsyncDisposable
    {
        public TempDirectory Folder { get; } = folder;

        public FakeTimeProvider Time { get; } = time;

        public PeerNetNode Owner { get; } = owner;

        public List<PeerNetNode> Providers { get; } = providers;

        public PeerNetNode ProviderOf(string peer) => Providers.Single(p => p.Identity.PeerId.ToString() == peer);

        public async ValueTask DisposeAsync()
        {
            CancellationToken ct = TestContext.Current.CancellationToken;
            await Owner.DisposeAsync().AsTask().WaitAsync(Timeout, ct);
            foreach (PeerNetNode p in Providers)
            {
                await p.DisposeAsync().AsTask().WaitAsync(Timeout, ct);
            }

            Folder.Dispose();
        }
    }

    private static Task<PeerNetNode> StartAsync(string state, long share, GridMaintenanceOptions maintenance, TimeProvider time, CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions
        {
            ListenAddress = IPAddress.Loopback,
            ListenPort = 0,
            Dht = false,
            LocalDiscovery = false,
            Trackers = false,
            Utp = new UtpOptions { Outgoing = false, Incoming = false }, // its 50 ms tick would fire thousands of times per fake hour
            StateDirectory = state,
            StorageShareBytes = share,
            GridMaintenance = maintenance,
        },
        timeProvider: time,
        cancellationToken: ct).WaitAsync(Timeout, ct);

    private static async Task<Grid> StartGridAsync(int providers, GridMaintenanceOptions maintenance, CancellationToken ct)
    {
        var folder = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        PeerNetNode owner = await StartAsync(folder.Combine("owner"), 0, maintenance, time, ct);
        var nodes = new List<PeerNetNode>();
        for (int i = 0; i < providers; i++)
        {
            nodes.Add(await StartAsync(folder.Combine($"p{i}"), 16 << 20, maintenance, time, ct));
        }

        foreach (PeerNetNode p in nodes)
        {
            await owner.Libp2p.ConnectAsync(p.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
        }

        owner.Storage.RequestTimeout = TimeSpan.FromSeconds(10);
        return new Grid(folder, time, owner, nodes);
    }

    private static byte[] Data(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    private static Task<GridCapability> PutAsync(Grid grid, byte[] data, int k, int n, CancellationToken ct)
        => grid.Owner.Storage.PutAsync(new MemoryStream(data), new GridPutOptions { K = k, N = n, SegmentSize = 16 * 1024, Lease = Lease }, ct).WaitAsync(Timeout, ct);

    private static async Task<byte[]> GetAsync(PeerNetNode node, GridCapability capability, CancellationToken ct)
    {
        using var output = new MemoryStream();
        await node.Storage.GetAsync(capability, output, ct).WaitAsync(Timeout, ct);
        return output.ToArray();
    }

    private static string[] ShareFiles(PeerNetNode provider)
    {
        string shares = Path.Combine(provider.Options.StateDirectory!, "grid", "shares");
        return Directory.Exists(shares) ? Directory.GetFiles(shares, "*.share", SearchOption.AllDirectories) : [];
    }

    /// <summary>Moves the shared clock one wake on and returns the owner's report of the round that wake started.</summary>
    private static async Task<GridMaintenanceReport> NextRoundAsync(Grid grid, CancellationToken ct)
    {
        var round = new TaskCompletionSource<GridMaintenanceReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        void Completed(object? sender, GridMaintenanceReport report) => round.TrySetResult(report);
        grid.Owner.Storage.MaintenanceCompleted += Completed;
        try
        {
            grid.Time.Advance(Wake);
            return await round.Task.WaitAsync(Timeout, ct);
        }
        finally
        {
            grid.Owner.Storage.MaintenanceCompleted -= Completed;
        }
    }

    [Fact]
    public async Task RenewedLeases_KeepTheShares_AcrossSeveralLeaseLengths()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(3, Schedule, ct);
        byte[] data = Data(100_000);
        GridCapability capability = await PutAsync(grid, data, 2, 3, ct);
        long[] lent = [.. grid.Providers.Select(p => p.Storage.LentBytes)];
        Assert.All(lent, l => Assert.True(l > 0));

        int renewals = 0;
        var span = TimeSpan.Zero;
        while (span < Lease * 3.5)
        {
            GridMaintenanceReport report = await NextRoundAsync(grid, ct);
            span += Wake;
            Assert.Equal(1, report.FilesKnown);
            Assert.All(report.Files, f => Assert.Empty(f.RenewalsFailed));
            renewals += report.Files.Sum(f => f.LeasesRenewed);
        }

        // Every 3 minutes each of the three providers renewed: 35 minutes hold 11 renewal rounds.
        Assert.Equal(11 * 3, renewals);
        Assert.Equal(lent, grid.Providers.Select(p => p.Storage.LentBytes));
        Assert.All(grid.Providers, p => Assert.Single(ShareFiles(p)));
        GridStoredFile record = Assert.Single(grid.Owner.Storage.List());
        Assert.True(grid.Time.GetUtcNow() - record.LastRenewed < TimeSpan.FromMinutes(3), $"last renewed {record.LastRenewed}, now {grid.Time.GetUtcNow()}");
        Assert.Equal(data, await GetAsync(grid.Owner, capability, ct));
    }

    [Fact]
    public async Task OwnerGone_ProviderReclaimsTheSpace_WhenTheLeaseEnds()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(2, Schedule, ct);
        await PutAsync(grid, Data(60_000), 1, 2, ct);
        Assert.All(grid.Providers, p => Assert.True(p.Storage.LentBytes > 0));

        await grid.Owner.DisposeAsync().AsTask().WaitAsync(Timeout, ct);

        // The sweep runs on the provider's timer, inside Advance (the fake clock calls timers back synchronously).
        grid.Time.Advance(Lease - TimeSpan.FromMinutes(1));
        Assert.All(grid.Providers, p => Assert.True(p.Storage.LentBytes > 0, "a share was reclaimed before its lease ended"));
        Assert.All(grid.Providers, p => Assert.Single(ShareFiles(p)));

        grid.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.All(grid.Providers, p => Assert.Equal(0, p.Storage.LentBytes));
        Assert.All(grid.Providers, p => Assert.Empty(ShareFiles(p)));
    }

    [Fact]
    public async Task DroppedShare_IsFoundByTheSchedule_AndRepairedOnAnotherPeer()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(4, Schedule with { AuditInterval = TimeSpan.FromMinutes(5) }, ct);
        byte[] data = Data(80_000);
        GridCapability capability = await PutAsync(grid, data, 2, 3, ct);
        GridStoredFile stored = Assert.Single(grid.Owner.Storage.List());
        PeerNetNode spare = Assert.Single(grid.Providers, p => !stored.Shares.Values.Contains(p.Identity.PeerId.ToString()));
        Assert.Equal(0, spare.Storage.LentBytes);

        // The holder of share 1 drops it behind the owner's back (its lease stays): nobody calls check.
        string dropper = stored.Shares[1];
        File.Delete(Assert.Single(ShareFiles(grid.ProviderOf(dropper))));

        GridFileMaintenance? repaired = null;
        for (int round = 0; round < 10 && repaired is null; round++)
        {
            GridMaintenanceReport report = await NextRoundAsync(grid, ct);
            repaired = report.Files.SingleOrDefault(f => f.Health is { RepairedShares.Count: > 0 });
        }

        Assert.NotNull(repaired);
        Assert.Null(repaired.Error);
        Assert.Equal([1], repaired.Health!.RepairedShares);
        Assert.Equal([0, 1, 2], repaired.Health.HealthyShares);
        Assert.Contains(dropper, repaired.Health.FailedProviders);
        Assert.Contains(dropper, grid.Owner.Storage.BadProviders);

        GridStoredFile record = Assert.Single(grid.Owner.Storage.List());
        Assert.Equal(spare.Identity.PeerId.ToString(), record.Shares[1]);
        Assert.Equal(3, record.HealthyShares);
        Assert.Equal(grid.Time.GetUtcNow(), record.LastChecked);
        Assert.True(spare.Storage.LentBytes > 0);

        // The repaired share reads: without the holder of share 0, shares 1 (new) and 2 rebuild the file.
        await grid.ProviderOf(record.Shares[0]).DisposeAsync().AsTask().WaitAsync(Timeout, ct);
        Assert.Equal(data, await GetAsync(grid.Owner, capability, ct));
    }

    [Fact]
    public async Task MaintenanceOff_RenewsNothing_AndTheLeasesRunOut()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(2, GridMaintenanceOptions.Off, ct);
        Assert.False(grid.Owner.Storage.MaintenanceStarted);
        await PutAsync(grid, Data(60_000), 1, 2, ct);
        GridStoredFile stored = Assert.Single(grid.Owner.Storage.List());

        for (int minute = 0; minute <= Lease.TotalMinutes; minute++)
        {
            grid.Time.Advance(Wake);
        }

        Assert.Null(grid.Owner.Storage.LastMaintenance);
        Assert.Equal(stored, Assert.Single(grid.Owner.Storage.List()));
        Assert.All(grid.Providers, p => Assert.Equal(0, p.Storage.LentBytes));
        Assert.All(grid.Providers, p => Assert.Empty(ShareFiles(p)));
    }

    [Fact]
    public async Task RunMaintenance_WhenAsked_RenewsAndAuditsEveryFile_EvenWithTheScheduleOff()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(2, GridMaintenanceOptions.Off, ct);
        await PutAsync(grid, Data(60_000), 1, 2, ct);
        var raised = new TaskCompletionSource<GridMaintenanceReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        grid.Owner.Storage.MaintenanceCompleted += (_, r) => raised.TrySetResult(r);

        grid.Time.Advance(TimeSpan.FromMinutes(1));
        DateTimeOffset now = grid.Time.GetUtcNow();
        GridMaintenanceReport report = await grid.Owner.Storage.RunMaintenanceAsync(all: true, ct).WaitAsync(Timeout, ct);
        Assert.Same(report, await raised.Task.WaitAsync(Timeout, ct));
        Assert.Same(report, grid.Owner.Storage.LastMaintenance);
        GridFileMaintenance file = Assert.Single(report.Files);
        Assert.Null(file.Error);
        Assert.Equal(2, file.LeasesRenewed);
        Assert.Equal([0, 1], file.Health!.HealthyShares);
        Assert.Equal((1, 0, 0), (report.Audited, report.SharesRepaired, report.Unrecoverable));

        GridStoredFile record = Assert.Single(grid.Owner.Storage.List());
        Assert.Equal((now, now), (record.LastChecked, record.LastRenewed));
        GridStoredFile saved = Assert.Single(new GridRecords(Path.Combine(grid.Owner.Options.StateDirectory!, "grid", "owned.txt")).All());
        DateTimeOffset nowMs = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()); // the file keeps milliseconds
        Assert.Equal((nowMs, nowMs), (saved.LastChecked, saved.LastRenewed));

        // Nothing is due a moment later; and the renewal moved the lease's end from minute 10 to minute 11.
        Assert.Empty((await grid.Owner.Storage.RunMaintenanceAsync(all: false, ct).WaitAsync(Timeout, ct)).Files);
        grid.Time.Advance(TimeSpan.FromMinutes(9.5));
        Assert.All(grid.Providers, p => Assert.Single(ShareFiles(p)));
    }

    [Fact]
    public void Provider_RenewExtendsTheLease_KeptAcrossARestart_ThenSweepsIt()
    {
        using var folder = new TempDirectory();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Libp2pPeerId owner = Libp2pPeerId.FromEd25519PublicKey(new byte[32]);
        (GridCapability capability, byte[][] shares) = GridFile.Encode(new byte[32], 2, 3, 1024, Data(5000));
        Google.Protobuf.ByteString index = Google.Protobuf.ByteString.CopyFrom(capability.StorageIndex.Span);
        var open = new List<(string, int)>();
        StoreRequest Renew(TimeSpan lease) => new() { Renew = new RenewLease { StorageIndex = index, LeaseSeconds = (ulong)lease.TotalSeconds } };

        using (var provider = new GridProvider(folder.Path, 1 << 20, time))
        {
            Assert.Contains("no shares", provider.Answer(owner, Renew(Lease), open).Error, StringComparison.Ordinal);
            Assert.True(provider.Answer(owner, new StoreRequest { Allocate = new Allocate { StorageIndex = index, ShareNumber = 0, Size = (ulong)shares[0].Length, LeaseSeconds = (ulong)Lease.TotalSeconds } }, open).Ok);
            Assert.True(provider.Answer(owner, new StoreRequest { Write = new WriteShare { StorageIndex = index, ShareNumber = 0, Data = Google.Protobuf.ByteString.CopyFrom(shares[0]) } }, open).Ok);
            Assert.True(provider.Answer(owner, new StoreRequest { Commit = new CommitShare { StorageIndex = index, ShareNumber = 0 } }, open).Ok);

            time.Advance(TimeSpan.FromMinutes(8));
            Assert.True(provider.Answer(owner, Renew(Lease), open).Ok); // now ends at minute 18, not 10
            time.Advance(TimeSpan.FromMinutes(8));
            Assert.Equal(shares[0].Length, provider.Used);
        }

        // Restarted at minute 16: the renewed lease was on disk, so the share is kept at start.
        using var restarted = new GridProvider(folder.Path, 1 << 20, time);
        Assert.Equal(shares[0].Length, restarted.Used);
        time.Advance(TimeSpan.FromMinutes(3)); // minute 19: past the renewed end; the timer sweeps
        Assert.Equal(0, restarted.Used);
        Assert.Empty(Directory.GetFiles(Path.Combine(folder.Path, "grid", "shares"), "*", SearchOption.AllDirectories));
        Assert.Contains("no shares", restarted.Answer(owner, Renew(Lease), open).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Record_ReadsFormat1_AndWritesFormat2_WithTheMaintenanceTimes()
    {
        using var folder = new TempDirectory();
        string path = folder.Combine("grid", "owned.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        (GridCapability capability, _) = GridFile.Encode(new byte[32], 2, 3, 1024, Data(5000));
        string cap = capability.ToString();
        File.WriteAllText(path, $"{cap}\t5000\t2\t3\t1700000000000\t3\t0=peerA,1=peerB,2=peerC\n");

        GridStoredFile old = Assert.Single(new GridRecords(path).All());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1700000000000), old.StoredAt);
        Assert.Equal("peerB", old.Shares[1]);
        Assert.Null(old.LastChecked);
        Assert.Null(old.LastRenewed);

        var records = new GridRecords(path);
        DateTimeOffset renewed = DateTimeOffset.FromUnixTimeMilliseconds(1700000300000);
        Assert.True(records.Update(cap, f => f with { LastRenewed = renewed }, persist: true));
        Assert.False(records.Update("URI:none", f => f, persist: true));
        string[] lines = File.ReadAllLines(path);
        Assert.Equal("# peernet grid owned 2", lines[0]);
        Assert.Equal(9, lines[1].Split('\t').Length);

        GridStoredFile reread = Assert.Single(new GridRecords(path).All());
        Assert.Equal(renewed, reread.LastRenewed);
        Assert.Null(reread.LastChecked);
        Assert.Equal(old.Shares, reread.Shares);
        Assert.False(File.Exists(path + ".tmp"));
    }
}
