using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Nat;

namespace PeerNet.Engine.Tests.Nat;

/// <summary>
/// <see cref="PcpClient"/> in a <see cref="PortMapper"/> against fake gateways on loopback and a fake clock: PCP maps
/// both protocols and feeds the status, renews at half the lifetime with the same nonces, deletes on stop; a NAT-PMP-only
/// gateway makes it fall back (or fail, without NAT-PMP); a reboot seen in the epoch asks for the node's port again;
/// refusals, foreign answers and silence.
/// </summary>
public sealed class PcpClientTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private const int Port = 6881;

    private static PcpClient Client(IPEndPoint gateway, bool natPmpFallback = false)
        => new(gateway, 7200, natPmpFallback ? new NatPmpClient(gateway, 7200, TimeSpan.FromMilliseconds(200), 3) : null, TimeSpan.FromMilliseconds(200), 3);

    private static PortMapper Start(IPEndPoint gateway, IPortMappingClient client, TimeProvider time)
        => new(Port, gateway.Address, [client], time, NullLogger.Instance);

    [Fact]
    public async Task Map_ByPcp_ShowsTheExternalAddressAndPorts_AndAsksForBothProtocols()
    {
        await using var gateway = new FakePcpGateway();
        var time = new FakeTimeProvider();
        await using PortMapper mapper = Start(gateway.EndPoint, Client(gateway.EndPoint), time);
        await Poll.UntilAsync(() => mapper.Status.Protocol == PortMappingProtocol.Pcp, "mapped", Timeout);

        PortMappingStatus status = mapper.Status;
        Assert.Equal(IPAddress.Parse("203.0.113.9"), status.ExternalAddress);
        Assert.Equal(Port + 1000, status.ExternalTcpPort);
        Assert.Equal(Port + 1000, status.ExternalUdpPort);
        Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(60), status.ExpiresAt);
        Assert.Null(status.LastError);

        var requests = gateway.Requests.ToList();
        Assert.Equal([(17, Port, Port, 7200u), (6, Port, Port, 7200u)], requests.Select(r => ((int)r.Protocol, (int)r.Internal, (int)r.Suggested, r.Lifetime)));
        Assert.All(requests, r => Assert.Equal(IPAddress.Parse("::ffff:127.0.0.1"), r.Client)); // the address the request left from
        Assert.NotEqual(requests[0].Nonce, requests[1].Nonce); // one nonce per mapping
    }

    [Fact]
    public async Task Renewal_AtHalfTheLifetime_KeepsTheNoncesAndPorts_AndStopDeletesBoth()
    {
        await using var gateway = new FakePcpGateway();
        var time = new FakeTimeProvider();
        PortMapper mapper = Start(gateway.EndPoint, Client(gateway.EndPoint), time);
        await Poll.UntilAsync(() => mapper.Status.Protocol == PortMappingProtocol.Pcp, "mapped", Timeout);
        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(200, TestContext.Current.CancellationToken); // nothing is due yet
        Assert.Equal(2, gateway.Requests.Count);

        time.Advance(TimeSpan.FromSeconds(1));
        await Poll.UntilAsync(() => gateway.Requests.Count == 4, "renewed", Timeout);
        await mapper.DisposeAsync();

        var requests = gateway.Requests.ToList();
        Assert.Equal(6, requests.Count);
        Assert.All(requests.Skip(2).Take(2), r => Assert.Equal(Port + 1000, r.Suggested)); // the port granted, asked again
        Assert.Equal([(17, 0u), (6, 0u)], requests.Skip(4).Select(r => ((int)r.Protocol, r.Lifetime))); // deletions
        Assert.Equal(requests[0].Nonce, requests[2].Nonce);
        Assert.Equal(requests[0].Nonce, requests[4].Nonce);
        Assert.Equal(requests[1].Nonce, requests[3].Nonce);
        Assert.Equal(requests[1].Nonce, requests[5].Nonce);
    }

    [Fact]
    public async Task NatPmpOnlyGateway_AnswersVersionZero_AndTheClientFallsBackToNatPmp()
    {
        await using var gateway = new FakeNatPmpGateway();
        PcpClient client = Client(gateway.EndPoint, natPmpFallback: true);
        PortMapper mapper = Start(gateway.EndPoint, client, new FakeTimeProvider());
        await Poll.UntilAsync(() => mapper.Status.Protocol == PortMappingProtocol.NatPmp, "mapped by NAT-PMP", Timeout);
        Assert.Equal(IPAddress.Parse("203.0.113.7"), mapper.Status.ExternalAddress);
        Assert.Equal(1, gateway.VersionMismatches); // one PCP request, then NAT-PMP for good
        Assert.Equal(PortMappingProtocol.NatPmp, client.Protocol);

        await mapper.DisposeAsync();
        Assert.Equal(2, gateway.Requests.Count(r => r.Lifetime == 0 && r.Opcode != 0)); // removed by NAT-PMP
        Assert.Equal(1, gateway.VersionMismatches);
    }

    [Fact]
    public async Task NatPmpOnlyGateway_WithoutTheFallback_IsTheLastError()
    {
        await using var gateway = new FakeNatPmpGateway();
        await using PortMapper mapper = Start(gateway.EndPoint, Client(gateway.EndPoint), new FakeTimeProvider());
        await Poll.UntilAsync(() => mapper.Status.LastError is not null, "refused", Timeout);
        Assert.Equal(PortMappingProtocol.None, mapper.Status.Protocol);
        Assert.Contains("PCP: the gateway 127.0.0.1 speaks NAT-PMP, not PCP", mapper.Status.LastError, StringComparison.Ordinal);
        Assert.Empty(gateway.Requests);
    }

    [Fact]
    public async Task EpochGoingBackwards_IsAReboot_AndTheNodesOwnPortIsAskedAgain()
    {
        await using var gateway = new FakePcpGateway();
        PcpClient client = Client(gateway.EndPoint);
        try
        {
            MappedPort first = await client.MapAsync(Port, TestContext.Current.CancellationToken);
            Assert.Equal(Port + 1000, first.TcpPort);
            await client.MapAsync(Port, TestContext.Current.CancellationToken); // a renewal: epoch goes on, no reset
            Assert.Equal(0, client.ServerResets);

            gateway.Epoch = 3; // the gateway rebooted
            await client.MapAsync(Port, TestContext.Current.CancellationToken);
            Assert.Equal(1, client.ServerResets);

            var requests = gateway.Requests.ToList();
            Assert.Equal(Port + 1000, requests[2].Suggested); // renewal: the granted port
            Assert.Equal(Port + 1000, requests[4].Suggested); // UDP sent before the reboot was seen
            Assert.Equal(Port, requests[5].Suggested); // TCP after: the node's own port again
        }
        finally
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task Refusal_IsTheLastError_WithTheResultsName()
    {
        await using var gateway = new FakePcpGateway { Refusal = 2 };
        await using PortMapper mapper = Start(gateway.EndPoint, Client(gateway.EndPoint), new FakeTimeProvider());
        await Poll.UntilAsync(() => mapper.Status.LastError is not null, "refused", Timeout);
        Assert.Equal(PortMappingProtocol.None, mapper.Status.Protocol);
        Assert.Contains("PCP: the gateway 127.0.0.1 refused", mapper.Status.LastError, StringComparison.Ordinal);
        Assert.Contains("NOT_AUTHORIZED", mapper.Status.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnswersForAnotherMapping_AndMalformedOnes_AreIgnored()
    {
        await using var gateway = new FakePcpGateway { ForeignFirst = true };
        PcpClient client = Client(gateway.EndPoint);
        try
        {
            MappedPort mapped = await client.MapAsync(Port, TestContext.Current.CancellationToken);
            Assert.Equal(Port + 1000, mapped.UdpPort);
            Assert.Equal(2, gateway.Requests.Count); // each answered on the first try, the junk before it skipped
        }
        finally
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task NoAnswer_IsReported_AfterTheRetransmissions()
    {
        using var silent = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var endPoint = (IPEndPoint)silent.Client.LocalEndPoint!;
        using var client = new PcpClient(endPoint, 7200, null, TimeSpan.FromMilliseconds(50), 3);
        PortMappingException e = await Assert.ThrowsAsync<PortMappingException>(() => client.MapAsync(Port, TestContext.Current.CancellationToken));
        Assert.Equal("no PCP answer from the gateway 127.0.0.1", e.Message);
        int sent = 0;
        while (silent.Available > 0)
        {
            await silent.ReceiveAsync(TestContext.Current.CancellationToken);
            sent++;
        }

        Assert.Equal(3, sent); // the request and two retransmissions
    }
}
