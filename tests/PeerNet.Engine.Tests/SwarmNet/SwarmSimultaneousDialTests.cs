using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using PeerNet.Metainfo;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>
/// Two nodes that learn of each other at the same moment (as LSD makes them) dial each other: both ends must keep the
/// same one of the two connections. Each end used to close the newer one, so often neither survived; then the rule
/// was ours alone (the lesser dialer id kept), so against libtorrent, which keeps the greater's, both were lost half the
/// time. A peer lost anyway is dialled again.
/// </summary>
public sealed class SwarmSimultaneousDialTests
{
    private static readonly byte[] Lesser = [.. Enumerable.Repeat((byte)0x2d, 19), 0x01];
    private static readonly byte[] Greater = [.. Enumerable.Repeat((byte)0x2d, 19), 0x02];

    /// <summary>The connection a node keeps of two to one peer, seen in the order given. Dialer: the node that dialled it.</summary>
    private static string Kept(byte[] self, byte[] other, (string Name, byte[] Dialer) first, (string Name, byte[] Dialer) second)
        => TorrentSwarm.ReplacesExisting(newIsOutgoing: second.Dialer == self, self, other) ? second.Name : first.Name;

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void EachDialsTheOther_BothKeepTheOneTheGreaterIdDialled_InWhateverOrderTheyArrive(bool lesserSeesItsOwnFirst, bool greaterSeesItsOwnFirst)
    {
        (string, byte[]) byLesser = ("by lesser", Lesser), byGreater = ("by greater", Greater);
        string atLesser = lesserSeesItsOwnFirst ? Kept(Lesser, Greater, byLesser, byGreater) : Kept(Lesser, Greater, byGreater, byLesser);
        string atGreater = greaterSeesItsOwnFirst ? Kept(Greater, Lesser, byGreater, byLesser) : Kept(Greater, Lesser, byLesser, byGreater);
        Assert.Equal("by greater", atLesser);
        Assert.Equal("by greater", atGreater);
    }

    [Theory]
    [InlineData(true, "second")]
    [InlineData(false, "first")]
    public void OneDialsTwice_BothEndsKeepTheSameOne_AsLibtorrentDoes(bool greaterDialled, string expected)
    {
        byte[] dialer = greaterDialled ? Greater : Lesser, acceptor = greaterDialled ? Lesser : Greater;
        (string, byte[]) first = ("first", dialer), second = ("second", dialer);
        Assert.Equal(expected, Kept(dialer, acceptor, first, second));
        Assert.Equal(expected, Kept(acceptor, dialer, first, second));
    }

    [Fact]
    public async Task ALostSeeder_ComesBackAtItsAddress_TheLeecherDialsItAgainAndCompletes()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [2_000_000]);
        var endpoint = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("10.9.0.1"), 6881);
        SessionOptions seederOptions = new() { ListenEndPoint = endpoint, UploadRateLimit = 400_000 };
        SwarmSession seeder = await harness.StartNodeAsync(seederOptions);
        await SwarmHarness.SeedAsync(seeder, torrent, content);
        var fast = new TorrentOptions { ReconnectDelay = TimeSpan.FromMilliseconds(300), RedialDelay = TimeSpan.FromMilliseconds(300) };
        FailedDials? dials = null;
        SwarmSession leecher = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(IPAddress.Parse("10.9.0.2"), 6881) }, t => dials = new FailedDials(t));
        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, [seeder], fast);
        await SwarmHarness.WaitUntilAsync(() => download.GetStatus().PiecesVerified > 0);

        // The seeder goes away mid-download (the leecher's dials now fail), then comes back at the same address.
        await seeder.DisposeAsync();
        await SwarmHarness.WaitUntilAsync(() => download.PeerCount == 0);
        Assert.True(download.GetStatus().PiecesVerified < torrent.PieceCount);
        await SwarmHarness.WaitUntilAsync(() => dials!.To(endpoint) > 0, "the leecher redialled the gone seeder, and failed");
        SwarmSession back = await harness.StartNodeAsync(seederOptions with { UploadRateLimit = 0 });
        await SwarmHarness.SeedAsync(back, torrent, content);

        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
    }

    [Fact]
    public async Task BothNodesDialEachOtherAtOnce_OneConnectionSurvives_AndTheTransferCompletes()
    {
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.V1, [400_000]);
        for (int round = 0; round < 5; round++)
        {
            SwarmSession seeder = await harness.StartNodeAsync();
            TorrentSwarm seeding = await SwarmHarness.SeedAsync(seeder, torrent, content);
            SwarmSession leecher = await harness.StartNodeAsync();
            (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, torrent, []);

            download.AddPeerEndpoint(seeder.LocalEndPoint!);
            seeding.AddPeerEndpoint(leecher.LocalEndPoint!);
            await SwarmHarness.WaitCompletedAsync(download);
            SwarmHarness.AssertSameFiles(torrent, content, folder);
        }
    }

    /// <summary>A node's transport that counts its dials that failed (refused: nobody listens there), by target.</summary>
    private sealed class FailedDials(IPeerTransport inner) : IPeerTransport
    {
        private readonly ConcurrentDictionary<IPEndPoint, int> _failed = new();

        public int To(IPEndPoint target) => _failed.GetValueOrDefault(target);

        public ValueTask<IPeerListener> ListenAsync(IPEndPoint localEndPoint, CancellationToken cancellationToken)
            => inner.ListenAsync(localEndPoint, cancellationToken);

        public async ValueTask<IDuplexConnection> ConnectAsync(IPEndPoint remote, CancellationToken cancellationToken)
        {
            try
            {
                return await inner.ConnectAsync(remote, cancellationToken);
            }
            catch (SocketException)
            {
                _failed.AddOrUpdate(remote, 1, (_, n) => n + 1);
                throw;
            }
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
