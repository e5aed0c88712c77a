using System.Net;
using PeerNet.Transport;

namespace PeerNet.Engine.Tests.Transport;

/// <summary>The transport contract on the in-memory network, unshaped: bytes pass straight through.</summary>
public sealed class InMemoryContractTests : TransportContractTests
{
    private static readonly IPAddress ServerAddress = IPAddress.Parse("127.0.1.1");

    private protected override IPEndPoint ListenEndPoint => new(ServerAddress, 0);

    private protected override (IPeerTransport Server, IPeerTransport Client) CreateTransports()
    {
        var network = new InMemoryNetwork();
        return (network.CreateTransport(ServerAddress), network.CreateTransport(IPAddress.Parse("127.0.1.2")));
    }

    private protected override Task<IPEndPoint> UnusedEndPointAsync() => Task.FromResult(new IPEndPoint(ServerAddress, 6881));
}

/// <summary>
/// The transport contract on the in-memory network with both uplinks shaped (256 MB/s, 1 ms), so the pacing and
/// delay-line paths keep the same promises.
/// </summary>
public sealed class InMemoryShapedContractTests : TransportContractTests
{
    private static readonly IPAddress ServerAddress = IPAddress.Parse("127.0.2.1");

    private protected override IPEndPoint ListenEndPoint => new(ServerAddress, 0);

    private protected override long DuplexBytes => 32L * 1024 * 1024;

    private protected override (IPeerTransport Server, IPeerTransport Client) CreateTransports()
    {
        var network = new InMemoryNetwork();
        var link = new InMemoryLinkOptions { BytesPerSecond = 256_000_000, Latency = TimeSpan.FromMilliseconds(1) };
        return (network.CreateTransport(ServerAddress, link), network.CreateTransport(IPAddress.Parse("127.0.2.2"), link));
    }

    private protected override Task<IPEndPoint> UnusedEndPointAsync() => Task.FromResult(new IPEndPoint(ServerAddress, 6881));
}
