using System.Net;
using PeerNet.Engine.Tests.SwarmNet;
using PeerNet.Metainfo;

namespace PeerNet.Engine.Tests.Node;

/// <summary>
/// Public-API nodes on one in-memory network (each at its own 10.50.0.x address, no DHT, no LSD), content made by
/// the swarm harness, and a deadline on every wait.
/// </summary>
internal sealed class NodeHarness : IAsyncDisposable
{
    private readonly SwarmHarness _content = new();
    private readonly List<PeerNetNode> _nodes = [];
    private int _nextAddress = 1;

    public static TimeSpan Timeout => SwarmHarness.Timeout;

    public string Root => _content.Root;

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Random content and its torrent (one file, or a folder of files of the given sizes).</summary>
    public Task<(TorrentMetainfo Torrent, string Content)> CreateContentAsync(TorrentVersion version, long[] sizes, long pieceLength = 32 * 1024)
        => _content.CreateContentAsync(version, sizes, pieceLength);

    /// <summary>A fresh empty folder under the harness's root.</summary>
    public string NewFolder(string name)
    {
        string folder = Path.Combine(Root, name + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>Starts a node at the next address of the in-memory network.</summary>
    public async Task<PeerNetNode> StartNodeAsync(PeerNetNodeOptions? options = null, TimeProvider? time = null)
    {
        var address = IPAddress.Parse($"10.50.0.{_nextAddress++}");
        options = (options ?? new PeerNetNodeOptions()) with { ListenAddress = address, ListenPort = 6881, Dht = false };
        PeerNetNode node = await PeerNetNode.StartAsync(options, _content.Network.CreateTransport(address), null, null, time ?? TimeProvider.System, Ct).WaitAsync(Timeout, Ct);
        _nodes.Add(node);
        return node;
    }

    /// <summary>Seeds <paramref name="torrent"/> from <paramref name="content"/> (the folder holding its data) on <paramref name="node"/>.</summary>
    public static Task<TorrentHandle> SeedAsync(PeerNetNode node, TorrentMetainfo torrent, string content, AddTorrentOptions? options = null)
        => node.AddTorrentAsync(TorrentSource.FromMetainfo(torrent), options ?? new AddTorrentOptions { SavePath = content, UploadSlots = 0 }, Ct).WaitAsync(Timeout, Ct);

    /// <summary>Waits for <paramref name="torrent"/> to complete, failing with its status if it does not in time.</summary>
    public static async Task WaitCompletedAsync(TorrentHandle torrent)
    {
        try
        {
            await torrent.WaitForCompletionAsync(Ct).WaitAsync(Timeout, Ct);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{torrent} did not complete: {torrent.GetStatus()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (PeerNetNode node in _nodes)
        {
            await node.DisposeAsync().AsTask().WaitAsync(Timeout, Ct);
        }

        await _content.DisposeAsync();
    }
}
