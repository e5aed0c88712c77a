using System.Buffers;
using System.Net;
using PeerNet.Dht;
using PeerNet.Discovery.Dht;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Dht;

/// <summary>
/// A DHT node on the internet answers a lookup with loopback, private and link-local peers and nodes: the lookup must
/// neither hand those peers to a torrent nor query those nodes (the node as a reflector into the networks behind it).
/// </summary>
public sealed class DhtLookupScopeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Lookup_AnsweredByAnInternetNode_TakesOnlyWhatIsAsWideAsIt()
    {
        var network = new InMemoryDatagramNetwork(new InMemoryDatagramOptions { Seed = 3, ReceiveQueueCapacity = 1024 });
        var liarAddress = new IPEndPoint(IPAddress.Parse("198.51.100.20"), 6881);
        await using IDatagramSocket liar = network.Bind(liarAddress);
        NodeId liarId = NodeIdSecurity.Generate(liarAddress.Address, new Random(1));

        // Sockets where the local nodes it names would listen: nothing may reach them.
        IPEndPoint[] named = [IPEndPoint.Parse("127.0.0.1:6881"), IPEndPoint.Parse("192.168.0.4:6881"), IPEndPoint.Parse("169.254.9.9:6881")];
        IDatagramSocket[] traps = [.. named.Select(network.Bind)];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        Task answering = AnswerEverythingAsync(liar, liarId, named, stop.Token);

        var options = DhtTestNet.DefaultOptions with { BindEndPoint = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881), BootstrapNodes = [liarAddress.ToString()] };
        await using var node = new DhtNode(options, network, TimeProvider.System, new Random(2));
        await node.StartAsync(Ct);
        IReadOnlyList<IPEndPoint> peers = await node.GetPeersAsync(new Sha1Hash(new byte[20]), Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal([IPEndPoint.Parse("203.0.113.7:6881")], peers);
        foreach (IDatagramSocket trap in traps)
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromMilliseconds(1));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await trap.ReceiveAsync(new byte[2048], quick.Token));
            await trap.DisposeAsync();
        }

        await stop.CancelAsync();
        await answering;
    }

    /// <summary>Answers every query with loopback, private and public peers and local nodes.</summary>
    private static async Task AnswerEverythingAsync(IDatagramSocket socket, NodeId id, IPEndPoint[] localNodes, CancellationToken stop)
    {
        byte[] buffer = new byte[2048];
        var random = new Random(4);
        try
        {
            while (true)
            {
                DatagramReceived received = await socket.ReceiveAsync(buffer, stop);
                if (!KrpcMessage.TryDecode(buffer.AsMemory(0, received.Length), out KrpcMessage? query, out _) || query.Type != KrpcMessageType.Query)
                {
                    continue;
                }

                var reply = new KrpcMessage
                {
                    Type = KrpcMessageType.Response,
                    TransactionId = query.TransactionId,
                    Id = id,
                    Token = [1, 2, 3, 4],
                    Nodes = [.. localNodes.Select(e => new DhtContact(NodeId.Random(random), e))],
                    Values = query.Method == DhtMethod.GetPeers
                        ? [IPEndPoint.Parse("127.0.0.1:6881"), IPEndPoint.Parse("10.0.0.9:6881"), IPEndPoint.Parse("169.254.1.2:6881"), IPEndPoint.Parse("203.0.113.7:6881")]
                        : [],
                };
                var output = new ArrayBufferWriter<byte>();
                reply.WriteTo(output);
                await socket.SendAsync(output.WrittenMemory, received.RemoteEndPoint, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}
