using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Diagnostics;

namespace PeerNet.Engine.Tests.Diagnostics;

public sealed class ConnectivityTrackerTests
{
    [Fact]
    public void Inbound_connections_are_counted_per_transport_and_family_and_only_internet_ones_prove_reachability()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var tracker = new ConnectivityTracker(time);
        tracker.Inbound(InboundTransport.Tcp, IPEndPoint.Parse("192.168.1.20:50000"));
        time.Advance(TimeSpan.FromMinutes(3));
        tracker.Inbound(InboundTransport.Tcp, IPEndPoint.Parse("[::ffff:203.0.113.9]:40000")); // a v4-mapped address counts as IPv4
        DateTimeOffset internet = time.GetUtcNow();
        time.Advance(TimeSpan.FromMinutes(1));
        tracker.Inbound(InboundTransport.Tcp, IPEndPoint.Parse("[fd00::7]:40000"));
        tracker.Inbound(InboundTransport.Utp, IPEndPoint.Parse("[2001:db8::9]:6881"));

        (long v4, long v6, DateTimeOffset? last, DateTimeOffset? fromInternet) = tracker.InboundOn(InboundTransport.Tcp);
        Assert.Equal((2L, 1L), (v4, v6));
        Assert.Equal(time.GetUtcNow(), last);
        Assert.Equal(internet, fromInternet);
        (v4, v6, last, fromInternet) = tracker.InboundOn(InboundTransport.Utp);
        Assert.Equal((0L, 1L), (v4, v6));
        Assert.Equal(time.GetUtcNow(), last);
        Assert.Equal(time.GetUtcNow(), fromInternet); // 2001:db8::/32 is as global as any other address here
    }

    [Fact]
    public void Peers_yourip_votes_count_once_per_peer_only_from_and_about_internet_addresses_and_the_majority_wins()
    {
        var tracker = new ConnectivityTracker(new FakeTimeProvider());
        var ours = IPAddress.Parse("203.0.113.5");
        var wrong = IPAddress.Parse("198.51.100.7");
        tracker.PeerReported(IPAddress.Parse("192.168.1.3"), IPAddress.Parse("192.168.1.2")); // a LAN peer sees our LAN address
        tracker.PeerReported(IPAddress.Parse("203.0.113.200"), IPAddress.Parse("10.0.0.2"));  // nor is a private address ours outside
        tracker.PeerReported(IPAddress.Loopback, ours);                                        // nor does a loopback peer know
        tracker.PeerReported(IPAddress.Parse("8.8.8.8"), null);
        Assert.Null(tracker.PeersSee(AddressFamily.InterNetwork));

        tracker.PeerReported(IPAddress.Parse("1.1.1.1"), wrong);
        tracker.PeerReported(IPAddress.Parse("1.1.1.1"), wrong); // the same peer again: still one vote
        tracker.PeerReported(IPAddress.Parse("2.2.2.2"), ours);
        tracker.PeerReported(IPAddress.Parse("3.3.3.3"), ours);
        Assert.Equal((ours, 2), tracker.PeersSee(AddressFamily.InterNetwork) is { } seen ? (seen.Address, seen.Votes) : default);
        Assert.Null(tracker.PeersSee(AddressFamily.InterNetworkV6));
    }

    [Fact]
    public void Only_the_latest_voters_are_kept()
    {
        var tracker = new ConnectivityTracker(new FakeTimeProvider());
        var old = IPAddress.Parse("198.51.100.7");
        var now = IPAddress.Parse("203.0.113.5");
        for (int i = 0; i < ConnectivityTracker.MaxVoters; i++)
        {
            tracker.PeerReported(IPAddress.Parse($"1.1.{i / 250}.{(i % 250) + 1}"), old);
        }

        for (int i = 0; i < ConnectivityTracker.MaxVoters / 2 + 1; i++)
        {
            tracker.PeerReported(IPAddress.Parse($"2.2.{i / 250}.{(i % 250) + 1}"), now);
        }

        // The oldest voters went as new ones came: the address changed, and the newer view is the majority.
        Assert.Equal((now, ConnectivityTracker.MaxVoters / 2 + 1), tracker.PeersSee(AddressFamily.InterNetwork) is { } seen ? (seen.Address, seen.Votes) : default);
    }

    [Fact]
    public void Trackers_external_ip_votes_once_per_tracker_and_announces_take_the_router_then_trackers_then_two_peers()
    {
        var tracker = new ConnectivityTracker(new FakeTimeProvider());
        var router = IPAddress.Parse("203.0.113.5");
        var trackers = IPAddress.Parse("198.51.100.7");
        var peers = IPAddress.Parse("192.0.2.44");
        Assert.Null(tracker.ExternalAddress(AddressFamily.InterNetwork));

        tracker.PeerReported(IPAddress.Parse("1.1.1.1"), peers);
        Assert.Null(tracker.ExternalAddress(AddressFamily.InterNetwork)); // one peer's word is not enough
        tracker.PeerReported(IPAddress.Parse("2.2.2.2"), peers);
        Assert.Equal(peers, tracker.ExternalAddress(AddressFamily.InterNetwork));

        tracker.TrackerReported("http://t1/announce", IPAddress.Parse("10.1.2.3")); // a private address is nobody's external one
        Assert.Null(tracker.TrackersSee(AddressFamily.InterNetwork));
        tracker.TrackerReported("http://t1/announce", trackers);
        tracker.TrackerReported("http://t1/announce", trackers); // the same tracker again: one vote
        Assert.Equal((trackers, 1), tracker.TrackersSee(AddressFamily.InterNetwork) is { } seen ? (seen.Address, seen.Votes) : default);
        Assert.Equal(trackers, tracker.ExternalAddress(AddressFamily.InterNetwork));

        tracker.Learned = family => family == AddressFamily.InterNetwork ? router : null;
        Assert.Equal(router, tracker.ExternalAddress(AddressFamily.InterNetwork));
        Assert.Null(tracker.ExternalAddress(AddressFamily.InterNetworkV6));
        tracker.TrackerReported("http://t2/announce", IPAddress.Parse("2001:db8::77").MapToIPv6());
        tracker.TrackerReported("http://t3/announce", IPAddress.Parse("2001:db8::77"));
        Assert.Equal(IPAddress.Parse("2001:db8::77"), tracker.ExternalAddress(AddressFamily.InterNetworkV6));
    }
}
