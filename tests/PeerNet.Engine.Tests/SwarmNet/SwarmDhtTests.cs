using System.Net;
using PeerNet.Discovery.Dht;
using PeerNet.Engine.Tests.Dht;
using PeerNet.Metainfo;
using PeerNet.Swarm;

namespace PeerNet.Engine.Tests.SwarmNet;

/// <summary>A magnet link with no tracker and no peer: the DHT finds the seeder, for the metadata and the download.</summary>
public sealed class SwarmDhtTests
{
    [Theory]
    [InlineData(TorrentVersion.V1)]
    [InlineData(TorrentVersion.V2)]
    public async Task TrackerlessMagnet_FindsTheSeederThroughTheDht_AndDownloads(TorrentVersion version)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DhtTestNet dht = await DhtTestNet.StartAsync(6, seed: 7, ct);
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(version, [400_000, 70_000]);

        // Each node's DHT runs on its own address, as a real node's UDP port shares its TCP port's address.
        var seederAddress = IPAddress.Parse("10.9.0.1");
        DhtNode seederDht = await dht.AddAsync(ct, o => o with { BindEndPoint = new IPEndPoint(seederAddress, 6881) });
        SwarmSession seeder = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(seederAddress, 6881), Dht = seederDht });
        await SwarmHarness.SeedAsync(seeder, torrent, content);

        var leecherAddress = IPAddress.Parse("10.9.0.2");
        DhtNode leecherDht = await dht.AddAsync(ct, o => o with { BindEndPoint = new IPEndPoint(leecherAddress, 6881) });
        SwarmSession leecher = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(leecherAddress, 6881), Dht = leecherDht });
        var fetcher = new MetadataFetcher(leecher, torrent.InfoHashes); // no peer, no tracker: the DHT only
        TorrentMetainfo fetched = await fetcher.FetchAsync(ct).WaitAsync(SwarmHarness.Timeout, ct);
        Assert.Equal(torrent.InfoHashes, fetched.InfoHashes);

        (TorrentSwarm download, string folder) = await harness.LeechAsync(leecher, fetched, []);
        await SwarmHarness.WaitCompletedAsync(download);
        SwarmHarness.AssertSameFiles(torrent, content, folder);
        Assert.True(download.DhtPeersFound > 0);
    }

    [Fact]
    public async Task HybridSeeder_AnnouncesUnderBothHashes_AndDialsEachPeerWithTheHashItWasFoundUnder()
    {
        // Two listeners that only read a handshake: one announced on the DHT under the hybrid's v1 hash (a v1-only
        // client), one under its truncated v2 hash (a v2-only client, which would refuse the v1 hash). The seeder's
        // announces under both hashes find them, and each must be greeted with the hash it knows.
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using DhtTestNet dht = await DhtTestNet.StartAsync(6, seed: 11, ct);
        await using var harness = new SwarmHarness();
        (TorrentMetainfo torrent, string content) = await harness.CreateContentAsync(TorrentVersion.Hybrid, [300_000]);
        Sha1Hash v1 = torrent.InfoHashes.V1!.Value, v2 = torrent.InfoHashes.V2!.Value.Truncate();
        Assert.Equal([v1, v2], torrent.InfoHashes.SwarmHashes);

        async Task<(PeerNet.Transport.IPeerListener Listener, DhtNode Node)> ListenAndAnnounceAsync(string address, Sha1Hash hash)
        {
            var endpoint = new IPEndPoint(IPAddress.Parse(address), 6881);
            PeerNet.Transport.IPeerListener listener = await harness.Network.CreateTransport(endpoint.Address).ListenAsync(endpoint, ct);
            DhtNode node = await dht.AddAsync(ct, o => o with { BindEndPoint = endpoint });
            DhtAnnounceResult announced = await node.AnnounceAsync(hash, 6881, ct).WaitAsync(SwarmHarness.Timeout, ct);
            Assert.True(announced.AcceptedBy > 0);
            return (listener, node);
        }

        (PeerNet.Transport.IPeerListener v1Peer, _) = await ListenAndAnnounceAsync("10.9.1.1", v1);
        (PeerNet.Transport.IPeerListener v2Peer, _) = await ListenAndAnnounceAsync("10.9.1.2", v2);
        await using (v1Peer)
        await using (v2Peer)
        {
            var seederAddress = IPAddress.Parse("10.9.0.1");
            DhtNode seederDht = await dht.AddAsync(ct, o => o with { BindEndPoint = new IPEndPoint(seederAddress, 6881) });
            SwarmSession seeder = await harness.StartNodeAsync(new SessionOptions { ListenEndPoint = new IPEndPoint(seederAddress, 6881), Dht = seederDht });
            await SwarmHarness.SeedAsync(seeder, torrent, content);

            Assert.Equal(v1, await ReadHandshakeHashAsync(v1Peer));
            Assert.Equal(v2, await ReadHandshakeHashAsync(v2Peer));

            // Anyone looking up either hash finds the seeder.
            foreach (Sha1Hash hash in new[] { v1, v2 })
            {
                IReadOnlyList<IPEndPoint> peers = await dht.Nodes[0].GetPeersAsync(hash, ct).WaitAsync(SwarmHarness.Timeout, ct);
                Assert.Contains(new IPEndPoint(seederAddress, 6881), peers);
            }
        }

        async Task<Sha1Hash> ReadHandshakeHashAsync(PeerNet.Transport.IPeerListener listener)
        {
            await using PeerNet.Transport.IDuplexConnection connection = await listener.AcceptAsync(ct).AsTask().WaitAsync(SwarmHarness.Timeout, ct);
            System.IO.Pipelines.ReadResult read = await connection.Input.ReadAtLeastAsync(PeerNet.PeerWire.Handshake.Length, ct).AsTask().WaitAsync(SwarmHarness.Timeout, ct);
            byte[] bytes = System.Buffers.BuffersExtensions.ToArray(read.Buffer.Slice(0, PeerNet.PeerWire.Handshake.Length));
            connection.Input.AdvanceTo(read.Buffer.End);
            return new Sha1Hash(bytes.AsSpan(28, 20));
        }
    }
}
