using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using PeerNet.Nat;

namespace PeerNet.Engine.Tests.Nat;

/// <summary>
/// <see cref="PortMapper"/> with a NAT-PMP client against a fake gateway on loopback and a fake clock: the status it
/// reports, renewal at half the lifetime keeping the granted port, retry after a refusal, removal on stop.
/// </summary>
public sealed class PortMapperTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private const int Port = 6881;

    private static PortMapper Start(FakeNatPmpGateway gateway, FakeTimeProvider time, List<PortMappingStatus>? changes = null)
        => new(Port, gateway.EndPoint.Address, [new NatPmpClient(gateway.EndPoint, 7200, TimeSpan.FromMilliseconds(200), 3)], time, NullLogger.Instance,
            changed: s => { lock (changes ?? []) { changes?.Add(s); } });

    [Fact]
    public async Task Mapping_ShowsTheGatewaysAddressPortsAndLease()
    {
        await using var gateway = new FakeNatPmpGateway();
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var changes = new List<PortMappingStatus>();
        PortMapper mapper = Start(gateway, time, changes);
        await using (mapper)
        {
            await Poll.UntilAsync(() => mapper.Status.Protocol == PortMappingProtocol.NatPmp, "mapped", Timeout);
            PortMappingStatus status = mapper.Status;
            Assert.True(status.Enabled);
            Assert.Equal(IPAddress.Parse("203.0.113.7"), status.ExternalAddress);
            Assert.Equal(Port + 1000, status.ExternalTcpPort);
            Assert.Equal(Port + 1000, status.ExternalUdpPort);
            Assert.Equal(time.GetUtcNow() + TimeSpan.FromSeconds(60), status.ExpiresAt);
            Assert.Null(status.LastError);
            lock (changes)
            {
                Assert.Equal(PortMappingProtocol.NatPmp, Assert.Single(changes).Protocol);
            }

            // The address, then UDP and TCP, each for the lifetime asked and the node's own port suggested.
            Assert.Equal([(0, 0, 0, 0u), (1, Port, Port, 7200u), (2, Port, Port, 7200u)], gateway.Requests.Select(r => ((int)r.Opcode, (int)r.Internal, (int)r.Suggested, r.Lifetime)));
        }
    }

    [Fact]
    public async Task Renewal_AtHalfTheLifetime_AsksForTheGrantedPort_AndStopRemovesBoth()
    {
        await using var gateway = new FakeNatPmpGateway();
        var time = new FakeTimeProvider();
        PortMapper mapper = Start(gateway, time);
        await Poll.UntilAsync(() => mapper.Status.Protocol == PortMappingProtocol.NatPmp, "mapped", Timeout);
        time.Advance(TimeSpan.FromSeconds(29));
        await Task.Delay(200, TestContext.Current.CancellationToken); // nothing is due: no request may come
        Assert.Equal(3, gateway.Requests.Count);

        time.Advance(TimeSpan.FromSeconds(1)); // half of the 60 s granted
        await Poll.UntilAsync(() => gateway.Requests.Count == 6, "renewed", Timeout);
        Assert.All(gateway.Requests.Skip(4), r => Assert.Equal(Port + 1000, r.Suggested));

        await mapper.DisposeAsync();
        Assert.Equal([(1, Port, 0, 0u), (2, Port, 0, 0u)], gateway.Requests.Skip(6).Select(r => ((int)r.Opcode, (int)r.Internal, (int)r.Suggested, r.Lifetime)));
    }

    [Fact]
    public async Task Refusal_IsTheLastError_AndIsRetriedAfterAMinute()
    {
        await using var gateway = new FakeNatPmpGateway { Refusal = 2 };
        var time = new FakeTimeProvider();
        PortMapper mapper = Start(gateway, time);
        await using (mapper)
        {
            await Poll.UntilAsync(() => mapper.Status.LastError is not null, "refused", Timeout);
            Assert.Equal(PortMappingProtocol.None, mapper.Status.Protocol);
            Assert.Contains("NAT-PMP", mapper.Status.LastError, StringComparison.Ordinal);
            Assert.Contains("turned off", mapper.Status.LastError, StringComparison.Ordinal);

            gateway.Refusal = null;
            time.Advance(TimeSpan.FromMinutes(1));
            await Poll.UntilAsync(() => mapper.Status.Protocol == PortMappingProtocol.NatPmp, "mapped on the retry", Timeout);
        }

        Assert.Equal(2, gateway.Requests.Count(r => r.Lifetime == 0 && r.Opcode != 0)); // held a mapping: removed it
    }

    [Fact]
    public async Task NoGatewayAnswer_IsReported_WithinTheRetransmitSchedule()
    {
        using var silent = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0)); // reads nothing, answers nothing
        var endPoint = (IPEndPoint)silent.Client.LocalEndPoint!;
        await using var mapper = new PortMapper(Port, endPoint.Address, [new NatPmpClient(endPoint, 7200, TimeSpan.FromMilliseconds(50), 3)], new FakeTimeProvider(), NullLogger.Instance);
        await Poll.UntilAsync(() => mapper.Status.LastError is not null, "gave up", Timeout);
        Assert.Contains("no NAT-PMP answer", mapper.Status.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public void ProcNetRoute_DefaultRouteWithTheLowestMetric_IsTheGateway()
    {
        const string Table = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
            + "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
            + "eth0\t00000000\t014DA8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
            + "eth0\t004DA8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
        Assert.Equal(IPAddress.Parse("192.168.77.1"), Gateways.ParseProcNetRoute(Table));
        Assert.Null(Gateways.ParseProcNetRoute(Table.Split('\n')[0] + "\neth0\t004DA8C0\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n"));
        Assert.Null(Gateways.ParseProcNetRoute("garbage\n\t\t\n"));
    }

    [Fact]
    public async Task Node_OnLoopback_DoesNotMap()
    {
        await using PeerNetNode node = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = IPAddress.Loopback, ListenPort = 0, Dht = false, Trackers = false }, cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(node.PortMapping.Enabled);
        Assert.Same(PortMappingStatus.Off, node.GetStatus().PortMapping);
    }
}
