using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using PeerNet.Nat;

namespace PeerNet.Engine.Tests.Nat;

/// <summary>
/// <see cref="UpnpClient"/> against a fake gateway on loopback: a good one (and its 725 and 718 errors), and hostile
/// ones: SSDP floods, descriptions elsewhere than the answering host, huge descriptions.
/// </summary>
public sealed class UpnpClientTests
{
    private const string Type = "urn:schemas-upnp-org:service:WANIPConnection:1";
    private const int Port = 6881;

    private static string Description => $"""
        <?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device><serviceList>
        <service><serviceType>{Type}</serviceType><controlURL>/ctl</controlURL></service></serviceList></device></root>
        """;

    private static byte[] Soap(string inner) => Encoding.UTF8.GetBytes(
        "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>" + inner + "</s:Body></s:Envelope>");

    private static byte[] Fault(int code) => Soap($"<s:Fault><detail><UPnPError><errorCode>{code}</errorCode><errorDescription>e{code}</errorDescription></UPnPError></detail></s:Fault>");

    private static UpnpClient Client(FakeUpnpDevice device)
        => new(device.SsdpEndPoint, IPAddress.Loopback, 3600, NullLogger.Instance, TimeSpan.FromSeconds(1));

    /// <summary>A device that answers the search once, describes itself, and answers actions with <paramref name="soap"/>.</summary>
    private static FakeUpnpDevice Gateway(Func<string?, string, byte[]> soap)
        => new(
            d => [FakeUpnpDevice.SsdpAnswer($"http://127.0.0.1:{d.HttpPort}/desc.xml")],
            (line, action, body) => line.StartsWith("GET ", StringComparison.Ordinal) ? (200, Encoding.UTF8.GetBytes(Description)) : (200, soap(action, body)));

    private static byte[] Normal(string? action, string body) => action switch
    {
        Type + "#GetExternalIPAddress" => Soap($"<u:GetExternalIPAddressResponse xmlns:u=\"{Type}\"><NewExternalIPAddress>198.51.100.4</NewExternalIPAddress></u:GetExternalIPAddressResponse>"),
        Type + "#AddPortMapping" => Soap($"<u:AddPortMappingResponse xmlns:u=\"{Type}\"/>"),
        Type + "#DeletePortMapping" => Soap($"<u:DeletePortMappingResponse xmlns:u=\"{Type}\"/>"),
        _ => Fault(401),
    };

    [Fact]
    public async Task GoodGateway_MapsBothProtocols_AndDeletesThem()
    {
        await using FakeUpnpDevice device = Gateway(Normal);
        using UpnpClient client = Client(device);
        MappedPort mapped = await client.MapAsync(Port, TestContext.Current.CancellationToken);
        Assert.Equal(new MappedPort(IPAddress.Parse("198.51.100.4"), Port, Port, TimeSpan.FromSeconds(3600)), mapped);
        string[] adds = [.. device.Requests.Where(r => r.Action?.EndsWith("#AddPortMapping", StringComparison.Ordinal) == true).Select(r => r.Body)];
        Assert.Equal(2, adds.Length);
        Assert.All(adds, b => Assert.Contains("<NewInternalClient>127.0.0.1</NewInternalClient>", b, StringComparison.Ordinal));
        Assert.Contains("<NewProtocol>TCP</NewProtocol>", adds[0], StringComparison.Ordinal);
        Assert.Contains("<NewProtocol>UDP</NewProtocol>", adds[1], StringComparison.Ordinal);

        await client.UnmapAsync(Port, TestContext.Current.CancellationToken);
        Assert.Equal(2, device.Requests.Count(r => r.Action?.EndsWith("#DeletePortMapping", StringComparison.Ordinal) == true));
    }

    [Fact]
    public async Task OnlyPermanentLeases_RetriesWithLeaseZero_AndReportsAPermanentMapping()
    {
        await using FakeUpnpDevice device = Gateway((action, body) =>
            action!.EndsWith("#AddPortMapping", StringComparison.Ordinal) && !body.Contains("<NewLeaseDuration>0<", StringComparison.Ordinal) ? Fault(725) : Normal(action, body));
        using UpnpClient client = Client(device);
        MappedPort mapped = await client.MapAsync(Port, TestContext.Current.CancellationToken);
        Assert.Null(mapped.Lifetime);
        Assert.Equal(3, device.Requests.Count(r => r.Action?.EndsWith("#AddPortMapping", StringComparison.Ordinal) == true)); // refused once, then both at lease 0
    }

    [Fact]
    public async Task Conflict_TakesAnotherExternalPort()
    {
        await using FakeUpnpDevice device = Gateway((action, body) =>
            action!.EndsWith("#AddPortMapping", StringComparison.Ordinal) && body.Contains($"<NewExternalPort>{Port}<", StringComparison.Ordinal) ? Fault(718) : Normal(action, body));
        using UpnpClient client = Client(device);
        MappedPort mapped = await client.MapAsync(Port, TestContext.Current.CancellationToken);
        Assert.NotEqual(Port, mapped.TcpPort);
        Assert.InRange(mapped.TcpPort, 10_000, 60_000);
    }

    [Fact]
    public async Task Refusal_IsReportedWithTheDevicesCode()
    {
        await using FakeUpnpDevice device = Gateway((action, body) => action!.EndsWith("#AddPortMapping", StringComparison.Ordinal) ? Fault(606) : Normal(action, body));
        using UpnpClient client = Client(device);
        var e = await Assert.ThrowsAsync<PortMappingException>(() => client.MapAsync(Port, TestContext.Current.CancellationToken));
        Assert.Contains("UPnP error 606", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SsdpFlood_ReadsAtMostTheCap_AndFetchesAtMostFourDescriptions_EachCapped()
    {
        byte[] huge = new byte[1024 * 1024];
        huge.AsSpan().Fill((byte)' ');
        await using var device = new FakeUpnpDevice(
            d => Enumerable.Range(0, 500).Select(i => FakeUpnpDevice.SsdpAnswer($"http://127.0.0.1:{d.HttpPort}/d{i}.xml")),
            (_, _, _) => (200, huge));
        using UpnpClient client = Client(device);
        var e = await Assert.ThrowsAsync<PortMappingException>(() => client.MapAsync(Port, TestContext.Current.CancellationToken));
        Assert.Contains("longer than", e.Message, StringComparison.Ordinal);
        Assert.InRange(device.Requests.Count, 1, UpnpClient.MaxDevices);
    }

    [Theory]
    [InlineData("http://127.0.0.2:{0}/desc.xml")] // another host than the one answering
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("file:///etc/passwd")]
    public async Task Location_ElsewhereThanTheAnsweringHost_IsNeverFetched(string location)
    {
        await using var device = new FakeUpnpDevice(
            d => [FakeUpnpDevice.SsdpAnswer(string.Format(System.Globalization.CultureInfo.InvariantCulture, location, d.HttpPort))],
            (_, _, _) => (200, Encoding.UTF8.GetBytes(Description)));
        using UpnpClient client = Client(device);
        var e = await Assert.ThrowsAsync<PortMappingException>(() => client.MapAsync(Port, TestContext.Current.CancellationToken));
        Assert.Contains("no UPnP gateway answered", e.Message, StringComparison.Ordinal);
        Assert.Empty(device.Requests);
    }
}
