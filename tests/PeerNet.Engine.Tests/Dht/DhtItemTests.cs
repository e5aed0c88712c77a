using System.Net;
using System.Text;
using NSec.Cryptography;
using PeerNet.Dht;
using PeerNet.Discovery.Dht;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Dht;

/// <summary>BEP 44 items and BEP 51 samples between PeerNet nodes on the in-memory network.</summary>
public sealed class DhtItemTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<DhtTestNet> NetAsync(int nodes) => DhtTestNet.StartAsync(nodes, 44, Ct);

    [Fact]
    public void SignedBytes_Bep44Example_MatchesTheSpec()
    {
        byte[] signed = DhtItem.SignedBytes("foobar"u8, 1, "12:Hello World!"u8);
        Assert.Equal("4:salt6:foobar3:seqi1e1:v12:Hello World!", Encoding.ASCII.GetString(signed));
        Assert.Equal("3:seqi1e1:v12:Hello World!", Encoding.ASCII.GetString(DhtItem.SignedBytes([], 1, "12:Hello World!"u8)));
    }

    [Fact]
    public void ImmutableTarget_Bep44Example_IsTheSha1OfTheBencodedValue()
    {
        // BEP 44 test vector: v = "12:Hello World!", target e5f96f6f38320f0f33959cb4d3d656452117aadb.
        Assert.Equal("e5f96f6f38320f0f33959cb4d3d656452117aadb", DhtItem.ImmutableTarget("12:Hello World!"u8).ToString());
    }

    [Fact]
    public async Task ImmutableItem_PutByOneNode_IsFoundByAnother()
    {
        await using DhtTestNet net = await NetAsync(15);
        byte[] value = "12:Hello World!"u8.ToArray();
        DhtPutResult put = await net.Nodes[2].PutImmutableAsync(value, Ct).WaitAsync(Timeout, Ct);
        Assert.Equal("e5f96f6f38320f0f33959cb4d3d656452117aadb", put.Target.ToString());
        Assert.True(put.AcceptedBy >= 4, $"stored by {put.AcceptedBy}");
        Assert.Equal(value, await net.Nodes[11].GetImmutableAsync(put.Target, Ct).WaitAsync(Timeout, Ct));
        Assert.Null(await net.Nodes[11].GetImmutableAsync(Sha1Hash.Compute("nothing"u8), Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task MutableItem_NewerSequence_ReplacesTheOlder_AndAnOlderOneIsRefused()
    {
        await using DhtTestNet net = await NetAsync(15);
        byte[] seed = new byte[32];
        new Random(3).NextBytes(seed);
        byte[] publicKey;
        using (var key = Key.Import(SignatureAlgorithm.Ed25519, seed, KeyBlobFormat.RawPrivateKey))
        {
            publicKey = key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
        }

        byte[] salt = "foobar"u8.ToArray();
        await net.Nodes[1].PutMutableAsync(seed, salt, "5:first"u8.ToArray(), 1, Ct).WaitAsync(Timeout, Ct);
        DhtPutResult second = await net.Nodes[1].PutMutableAsync(seed, salt, "6:second"u8.ToArray(), 2, Ct).WaitAsync(Timeout, Ct);
        Assert.True(second.AcceptedBy >= 4, $"stored by {second.AcceptedBy}");
        DhtPutResult stale = await net.Nodes[1].PutMutableAsync(seed, salt, "5:stale"u8.ToArray(), 1, Ct).WaitAsync(Timeout, Ct);
        Assert.Equal(0, stale.AcceptedBy);

        DhtMutableItem? item = await net.Nodes[9].GetMutableAsync(publicKey, salt, Ct).WaitAsync(Timeout, Ct);
        Assert.NotNull(item);
        Assert.Equal(2, item.Sequence);
        Assert.Equal("6:second"u8.ToArray(), item.Value);
        Assert.Null(await net.Nodes[9].GetMutableAsync(publicKey, "other"u8.ToArray(), Ct).WaitAsync(Timeout, Ct));
    }

    [Fact]
    public async Task Put_ValueThatIsNotBencode_Throws()
    {
        await using DhtTestNet net = await NetAsync(1);
        await Assert.ThrowsAsync<ArgumentException>(() => net.Nodes[0].PutImmutableAsync("15:too short"u8.ToArray(), Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => net.Nodes[0].PutImmutableAsync(new byte[1001], Ct));
    }

    [Fact]
    public async Task MutablePut_WithABadSignature_IsAnswered206()
    {
        await using DhtTestNet net = await NetAsync(1);
        await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        KrpcMessage got = await AskAsync(probe, net.Nodes[0].LocalEndPoint, Query(DhtMethod.Get, NodeId.Random(new Random(1))));
        var put = new KrpcMessage
        {
            Type = KrpcMessageType.Query,
            TransactionId = "pp"u8.ToArray(),
            Method = DhtMethod.Put,
            Id = NodeId.Random(new Random(2)),
            Token = got.Token,
            ItemValue = "1:x"u8.ToArray(),
            PublicKey = new byte[32],
            Signature = new byte[64],
            Sequence = 1,
        };
        KrpcMessage reply = await AskAsync(probe, net.Nodes[0].LocalEndPoint, put.ToArray());
        Assert.Equal(KrpcErrorCode.InvalidSignature, reply.ErrorCode);
    }

    [Fact]
    public async Task SampleInfohashes_ReturnsStoredInfoHashesIntervalAndCount()
    {
        await using DhtTestNet net = await NetAsync(8);
        for (int i = 0; i < 3; i++)
        {
            await net.Nodes[0].AnnounceAsync(Sha1Hash.Compute(BitConverter.GetBytes(i)), 6000 + i, Ct).WaitAsync(Timeout, Ct);
        }

        await using IDatagramSocket probe = net.Network.Bind(new IPEndPoint(net.NextAddress(), 1));
        DhtNode holder = net.Nodes.OrderByDescending(n => n.GetStats().StoredInfoHashes).First();
        KrpcMessage reply = await AskAsync(probe, holder.LocalEndPoint, Query(DhtMethod.SampleInfohashes, NodeId.Random(new Random(4))));
        Assert.Equal(21600, reply.Interval);
        Assert.Equal(holder.GetStats().StoredInfoHashes, reply.SampleCount);
        Assert.Equal(reply.SampleCount, reply.Samples!.Count);
        Assert.NotEmpty(reply.Nodes);

        DhtSamples? samples = await net.Nodes[^1].SampleInfohashesAsync(holder.LocalEndPoint, Sha1Hash.Compute("x"u8), Ct).WaitAsync(Timeout, Ct);
        Assert.NotNull(samples);
        Assert.Equal(holder.GetStats().StoredInfoHashes, samples.StoredCount);
        Assert.Equal(TimeSpan.FromHours(6), samples.Interval);
        Assert.Subset(new HashSet<Sha1Hash>(Enumerable.Range(0, 3).Select(i => Sha1Hash.Compute(BitConverter.GetBytes(i)))), new HashSet<Sha1Hash>(samples.InfoHashes));
    }

    private static byte[] Query(DhtMethod method, NodeId target) => (KrpcMessage.CreateQuery("qq"u8.ToArray(), method, NodeId.Random(new Random(9))) with { Target = target }).ToArray();

    private static async Task<KrpcMessage> AskAsync(IDatagramSocket socket, IPEndPoint node, byte[] packet) =>
        await DhtTestNet.AskAsync(socket, node, packet, Ct) ?? throw new TimeoutException("no answer");
}
