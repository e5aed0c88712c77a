using System.Net;
using PeerNet.Engine.Tests.Storage;
using PeerNet.Grid;
using PeerNet.Grid.Protos;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Grid;

/// <summary>The storage grid between PeerNet nodes in this process, over libp2p on 127.0.0.1.</summary>
public sealed class GridStorageTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private sealed class Grid(TempDirectory folder, PeerNetNode owner, List<PeerNetNode> providers) : IAsyncDisposable
    {
        public TempDirectory Folder { get; } = folder;

        public PeerNetNode Owner { get; } = owner;

        public List<PeerNetNode> Providers { get; } = providers;

        public PeerNetNode ProviderOf(string peer) => Providers.Single(p => p.Identity.PeerId.ToString() == peer);

        public async ValueTask DisposeAsync()
        {
            await Owner.DisposeAsync();
            foreach (PeerNetNode p in Providers)
            {
                await p.DisposeAsync();
            }

            Folder.Dispose();
        }
    }

    private static Task<PeerNetNode> StartAsync(string state, long share, CancellationToken ct) => PeerNetNode.StartAsync(
        new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false, StateDirectory = state, StorageShareBytes = share },
        cancellationToken: ct);

    private static async Task<Grid> StartGridAsync(int providers, CancellationToken ct, long share = 16 << 20)
    {
        var folder = new TempDirectory();
        PeerNetNode owner = await StartAsync(folder.Combine("owner"), 0, ct);
        var nodes = new List<PeerNetNode>();
        for (int i = 0; i < providers; i++)
        {
            nodes.Add(await StartAsync(folder.Combine($"p{i}"), share, ct));
        }

        foreach (PeerNetNode p in nodes)
        {
            await owner.Libp2p.ConnectAsync(p.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
        }

        owner.Storage.RequestTimeout = TimeSpan.FromSeconds(10);
        return new Grid(folder, owner, nodes);
    }

    private static byte[] Data(int length)
    {
        byte[] data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    private static async Task<byte[]> GetAsync(PeerNetNode node, GridCapability capability, CancellationToken ct)
    {
        using var output = new MemoryStream();
        await node.Storage.GetAsync(capability, output, ct).WaitAsync(Timeout, ct);
        return output.ToArray();
    }

    [Fact]
    public async Task Put_OnTenPeers_ThenTwoGone_GetIsByteIdentical()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(10, ct);
        byte[] data = Data(300_000);
        GridCapability capability = await grid.Owner.Storage.PutAsync(new MemoryStream(data), new GridPutOptions { K = 3, N = 10, SegmentSize = 64 * 1024 }, ct).WaitAsync(Timeout, ct);

        GridStoredFile stored = Assert.Single(grid.Owner.Storage.List());
        Assert.Equal(capability.ToString(), stored.Capability);
        Assert.Equal(10, stored.Shares.Count);
        Assert.Equal(10, stored.Shares.Values.Distinct().Count()); // one share per peer
        Assert.All(grid.Providers, p => Assert.True(p.Storage.LentBytes > 0));

        foreach (string gone in stored.Shares.Values.Take(2))
        {
            PeerNetNode provider = grid.ProviderOf(gone);
            await provider.DisposeAsync();
        }

        Assert.Equal(data, await GetAsync(grid.Owner, capability, ct));
        Assert.Empty(grid.Owner.Storage.BadProviders); // gone peers are not asked; nobody lied
    }

    [Fact]
    public async Task CorruptProvider_IsDetected_Skipped_AndMarked()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(4, ct);
        byte[] data = Data(200_000);
        GridCapability capability = await grid.Owner.Storage.PutAsync(new MemoryStream(data), new GridPutOptions { K = 2, N = 4, SegmentSize = 64 * 1024 }, ct).WaitAsync(Timeout, ct);
        GridStoredFile stored = Assert.Single(grid.Owner.Storage.List());

        // Share 0 would be read first: damage one byte of its first block on its provider's disk.
        string liar = stored.Shares[0];
        PeerNetNode provider = grid.ProviderOf(liar);
        string share = Directory.EnumerateFiles(Path.Combine(provider.Options.StateDirectory!, "grid", "shares"), "0.share", SearchOption.AllDirectories).Single();
        byte[] bytes = await File.ReadAllBytesAsync(share, ct);
        bytes[^1000] ^= 0x01;
        await File.WriteAllBytesAsync(share, bytes, ct);

        Assert.Equal(data, await GetAsync(grid.Owner, capability, ct));
        Assert.Equal([liar], grid.Owner.Storage.BadProviders);
    }

    [Fact]
    public async Task Check_WithAVerifyCapability_RepairsLostShares_OnNewPeers()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(6, ct);
        byte[] data = Data(150_000);
        GridCapability capability = await grid.Owner.Storage.PutAsync(new MemoryStream(data), new GridPutOptions { K = 2, N = 4, SegmentSize = 32 * 1024 }, ct).WaitAsync(Timeout, ct);
        GridStoredFile stored = Assert.Single(grid.Owner.Storage.List());
        string[] lost = [stored.Shares[1], stored.Shares[3]];
        foreach (string peer in lost)
        {
            await grid.ProviderOf(peer).DisposeAsync();
        }

        GridCapability verify = capability.ToVerify();
        GridHealth before = await grid.Owner.Storage.CheckAsync(verify, repair: false, ct).WaitAsync(Timeout, ct);
        Assert.Equal([0, 2], before.HealthyShares);
        Assert.True(before.Recoverable);
        Assert.False(before.Healthy);

        GridHealth repaired = await grid.Owner.Storage.CheckAsync(verify, repair: true, ct).WaitAsync(Timeout, ct);
        Assert.Equal([1, 3], repaired.RepairedShares);
        Assert.True(repaired.Healthy);

        GridHealth after = await grid.Owner.Storage.CheckAsync(verify, repair: false, ct).WaitAsync(Timeout, ct);
        Assert.Equal([0, 1, 2, 3], after.HealthyShares);
        GridStoredFile record = Assert.Single(grid.Owner.Storage.List());
        Assert.DoesNotContain(record.Shares.Values, lost.Contains);
        Assert.Equal(4, record.Shares.Values.Distinct().Count());

        // The repaired shares alone (with one original) rebuild the file: lose the other original.
        await grid.ProviderOf(record.Shares[0]).DisposeAsync();
        Assert.Equal(data, await GetAsync(grid.Owner, capability, ct));
    }

    [Fact]
    public async Task Put_WithTooFewPeers_Fails_AndRecordsNothing()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using Grid grid = await StartGridAsync(2, ct, share: 50_000);
        IOException e = await Assert.ThrowsAsync<IOException>(() => grid.Owner.Storage.PutAsync(new MemoryStream(Data(300_000)), new GridPutOptions { K = 2, N = 3, SegmentSize = 64 * 1024 }, ct).WaitAsync(Timeout, ct));
        Assert.Contains("accepted", e.Message, StringComparison.Ordinal);
        Assert.Empty(grid.Owner.Storage.List());
        Assert.All(grid.Providers, p => Assert.Equal(0, p.Storage.LentBytes));
    }

    [Fact]
    public async Task Provider_LendingToListedPeers_RefusesAnyOtherOwner_WithTheReason()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var folder = new TempDirectory();
        await using PeerNetNode owner = await StartAsync(folder.Combine("owner"), 0, ct);
        await using PeerNetNode stranger = await StartAsync(folder.Combine("stranger"), 0, ct);
        var options = new PeerNetNodeOptions
        {
            ListenAddress = IPAddress.Loopback,
            ListenPort = 0,
            Dht = false,
            LocalDiscovery = false,
            Trackers = false,
            StorageShareBytes = 16 << 20,
            StorageAllowedPeers = [owner.Identity.PeerId],
        };
        await using PeerNetNode friend1 = await PeerNetNode.StartAsync(options with { StateDirectory = folder.Combine("f1") }, cancellationToken: ct);
        await using PeerNetNode friend2 = await PeerNetNode.StartAsync(options with { StateDirectory = folder.Combine("f2") }, cancellationToken: ct);
        foreach (PeerNetNode node in new[] { owner, stranger })
        {
            owner.Storage.RequestTimeout = stranger.Storage.RequestTimeout = TimeSpan.FromSeconds(10);
            await node.Libp2p.ConnectAsync(friend1.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
            await node.Libp2p.ConnectAsync(friend2.Libp2p.ListenAddresses[0], ct).WaitAsync(Timeout, ct);
        }

        byte[] data = Data(100_000);
        var put = new GridPutOptions { K = 1, N = 2, SegmentSize = 32 * 1024 };
        IOException refused = await Assert.ThrowsAsync<IOException>(() => stranger.Storage.PutAsync(new MemoryStream(data), put, ct).WaitAsync(Timeout, ct));
        Assert.Contains("accepted", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"{stranger.Identity.PeerId} may not store here", refused.Message, StringComparison.Ordinal); // the provider's reason reaches the owner
        Assert.Empty(stranger.Storage.List());
        Assert.Equal(0, friend1.Storage.LentBytes + friend2.Storage.LentBytes); // nothing taken for the stranger

        GridCapability capability = await owner.Storage.PutAsync(new MemoryStream(data), put, ct).WaitAsync(Timeout, ct);
        Assert.True(friend1.Storage.LentBytes > 0 && friend2.Storage.LentBytes > 0);
        Assert.Equal(data, await GetAsync(stranger, capability, ct)); // reading stays open to whoever has the capability
    }

    [Fact]
    public void Provider_RefusesOverQuota_AndKeepsCommittedSharesAcrossARestart()
    {
        using var folder = new TempDirectory();
        Libp2pPeerId owner = Libp2pPeerId.FromEd25519PublicKey(new byte[32]);
        (GridCapability capability, byte[][] shares) = GridFile.Encode(new byte[32], 2, 3, 1024, Data(5000));
        Google.Protobuf.ByteString index = Google.Protobuf.ByteString.CopyFrom(capability.StorageIndex.Span);
        var open = new List<(string, int)>();
        using (var provider = new GridProvider(folder.Path, shares[0].Length + 10, TimeProvider.System))
        {
            StoreResponse refused = provider.Answer(owner, new StoreRequest { Allocate = new Allocate { StorageIndex = index, ShareNumber = 0, Size = 1_000_000 } }, open);
            Assert.False(refused.Ok);
            Assert.Contains("quota", refused.Error, StringComparison.Ordinal);

            Assert.True(provider.Answer(owner, new StoreRequest { Allocate = new Allocate { StorageIndex = index, ShareNumber = 0, Size = (ulong)shares[0].Length } }, open).Ok);
            StoreResponse second = provider.Answer(owner, new StoreRequest { Allocate = new Allocate { StorageIndex = index, ShareNumber = 1, Size = (ulong)shares[1].Length } }, open);
            Assert.Contains("over quota", second.Error, StringComparison.Ordinal);

            Libp2pPeerId stranger = Libp2pPeerId.FromEd25519PublicKey([.. Enumerable.Repeat((byte)1, 32)]);
            Assert.False(provider.Answer(stranger, new StoreRequest { Write = new WriteShare { StorageIndex = index, ShareNumber = 0, Data = Google.Protobuf.ByteString.CopyFrom(shares[0]) } }, open).Ok);

            byte[] damaged = [.. shares[0]];
            damaged[^1] ^= 1;
            Assert.True(provider.Answer(owner, new StoreRequest { Write = new WriteShare { StorageIndex = index, ShareNumber = 0, Data = Google.Protobuf.ByteString.CopyFrom(damaged) } }, open).Ok);
            StoreResponse bad = provider.Answer(owner, new StoreRequest { Commit = new CommitShare { StorageIndex = index, ShareNumber = 0 } }, open);
            Assert.Contains("does not match", bad.Error, StringComparison.Ordinal);
            Assert.Equal(0, provider.Used);

            Assert.True(provider.Answer(owner, new StoreRequest { Allocate = new Allocate { StorageIndex = index, ShareNumber = 0, Size = (ulong)shares[0].Length } }, open).Ok);
            Assert.True(provider.Answer(owner, new StoreRequest { Write = new WriteShare { StorageIndex = index, ShareNumber = 0, Data = Google.Protobuf.ByteString.CopyFrom(shares[0]) } }, open).Ok);
            Assert.True(provider.Answer(owner, new StoreRequest { Commit = new CommitShare { StorageIndex = index, ShareNumber = 0 } }, open).Ok);
        }

        // A new provider over the same folder (as after a crash) has the acknowledged share, readable with its proofs.
        using var restarted = new GridProvider(folder.Path, shares[0].Length + 10, TimeProvider.System);
        Assert.Equal(shares[0].Length, restarted.Used);
        Assert.Equal([0u], restarted.Answer(owner, new StoreRequest { List = new ListShares { StorageIndex = index } }, open).ShareNumbers);
        StoreResponse read = restarted.Answer(owner, new StoreRequest { ReadBlocks = new ReadBlocks { StorageIndex = index, ShareNumber = 0, Segments = { 4 } } }, open);
        Assert.True(GridShareHeader.TryParse(shares[0], exact: false, out GridShareHeader? header, out _));
        Assert.True(GridDecoder.CheckBlock(header!, 4, read.Blocks[0].Data.Span, read.Blocks[0].Proof.Span));
        Assert.Contains("already", restarted.Answer(owner, new StoreRequest { Allocate = new Allocate { StorageIndex = index, ShareNumber = 0, Size = 10 } }, open).AlreadyHave ? "already" : "", StringComparison.Ordinal);
    }
}
