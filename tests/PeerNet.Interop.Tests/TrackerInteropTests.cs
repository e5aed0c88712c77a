using System.Net;
using System.Text;
using PeerNet.Discovery.Trackers;
using PeerNet.PeerWire;
using PeerNet.Tracker;

namespace PeerNet.Interop.Tests;

/// <summary>
/// PeerNet's tracker client against opentracker on loopback, over HTTP and UDP: announces register seeders and
/// leechers, each is handed the other, scrape counts them, and a stopped announce takes one away.
/// </summary>
public sealed class TrackerInteropTests
{
    private const int TestTimeout = 60_000;

    private static readonly Sha1Hash InfoHash = Sha1Hash.Compute("peernet tracker interop"u8);

    private static readonly TrackerClientOptions Options = new()
    {
        HttpTimeout = TimeSpan.FromSeconds(10),
        UdpBaseTimeout = TimeSpan.FromSeconds(2),
        UdpMaxRetransmissions = 2,
    };

    private static AnnounceRequest Request(string peer, int port, long left, TrackerEvent e) => new()
    {
        InfoHash = InfoHash,
        PeerId = new PeerId(Encoding.ASCII.GetBytes(peer.PadRight(PeerId.Length, '-'))),
        Port = port,
        Left = left,
        Event = e,
        Key = (uint)port,
    };

    [Theory(Timeout = TestTimeout)]
    [InlineData("http")]
    [InlineData("udp")]
    public async Task AnnounceAndScrape_SeederAndLeecher_CountedAndIntroduced(string scheme)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var session = await TrackerSession.StartAsync(scheme, ct);
        ITracker tracker = session.Tracker;

        AnnounceResponse seeder = await tracker.AnnounceAsync(Request("-SEED-", 40001, 0, TrackerEvent.Started), ct);
        Assert.True(seeder.Interval > TimeSpan.Zero, "opentracker names an interval");
        AnnounceResponse leecher = await tracker.AnnounceAsync(Request("-LEECH-", 40002, 1000, TrackerEvent.Started), ct);

        Assert.Equal(1, leecher.Complete);
        Assert.Equal(1, leecher.Incomplete);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 40001), leecher.Peers);

        IReadOnlyDictionary<Sha1Hash, ScrapeStats> scrape = await tracker.ScrapeAsync([InfoHash], ct);
        Assert.Equal(1, scrape[InfoHash].Complete);
        Assert.Equal(1, scrape[InfoHash].Incomplete);

        // The leecher completes; then the seeder leaves.
        AnnounceResponse completed = await tracker.AnnounceAsync(Request("-LEECH-", 40002, 0, TrackerEvent.Completed), ct);
        Assert.Equal(2, completed.Complete);
        Assert.Equal(0, completed.Incomplete);
        await tracker.AnnounceAsync(Request("-SEED-", 40001, 0, TrackerEvent.Stopped), ct);
        scrape = await tracker.ScrapeAsync([InfoHash], ct);
        Assert.Equal(1, scrape[InfoHash].Complete);
        Assert.Equal(0, scrape[InfoHash].Incomplete);
        Assert.Equal(1, scrape[InfoHash].Downloaded);
    }

    /// <summary>
    /// Over HTTP opentracker says why ("Requested download is not authorized for use with this tracker."); over UDP it
    /// sends no error packet but a bare 8-byte announce header, which the client refuses as too short: a failure
    /// either way, a refusal only over HTTP.
    /// </summary>
    [Theory(Timeout = TestTimeout)]
    [InlineData("http")]
    [InlineData("udp")]
    public async Task Announce_HashNotWhitelisted_Fails(string scheme)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var session = await TrackerSession.StartAsync(scheme, ct);
        ITracker tracker = session.Tracker;
        TrackerException e = await Assert.ThrowsAsync<TrackerException>(
            () => tracker.AnnounceAsync(Request("-X-", 40003, 5, TrackerEvent.Started) with { InfoHash = Sha1Hash.Compute("other"u8) }, ct));
        Assert.Equal(scheme == "http", e.IsRefusal);
        Assert.Contains(scheme == "http" ? "not authorized" : "too short", e.Message, StringComparison.Ordinal);
    }

    /// <summary>opentracker in a fresh folder, and a client for it over <c>http</c> or <c>udp</c>.</summary>
    private sealed class TrackerSession : IAsyncDisposable
    {
        private readonly TempDirectory _temp;
        private readonly OpentrackerProcess _opentracker;
        private readonly TrackerClient _client;

        private TrackerSession(TempDirectory temp, OpentrackerProcess opentracker, string scheme)
        {
            _temp = temp;
            _opentracker = opentracker;
            _client = new TrackerClient(Options, TimeProvider.System);
            Tracker = _client.Create(scheme == "http" ? opentracker.HttpAnnounceUrl : opentracker.UdpAnnounceUrl)!;
        }

        public ITracker Tracker { get; }

        public static async Task<TrackerSession> StartAsync(string scheme, CancellationToken cancellationToken)
        {
            var temp = new TempDirectory($"opentracker-{scheme}");
            try
            {
                return new TrackerSession(temp, await OpentrackerProcess.StartAsync(temp, [InfoHash], cancellationToken), scheme);
            }
            catch
            {
                temp.Dispose();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            Tracker.Dispose();
            _client.Dispose();
            await _opentracker.DisposeAsync();
            _temp.Dispose();
        }
    }
}
