using System.Text;
using PeerNet.PortMapping;

namespace PeerNet.Codecs.Tests.PortMapping;

/// <summary>UPnP device descriptions: the WAN connection service found, and hostile documents refused.</summary>
public sealed class UpnpDescriptionTests
{
    private static readonly Uri Location = new("http://192.168.77.1:44121/rootDesc.xml");

    /// <summary>A gateway's description in miniupnpd's shape (IGD:2, the WAN connection device two levels down).</summary>
    internal static string Gateway(string services, string urlBase = "") => $"""
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337"><specVersion><major>1</major><minor>1</minor></specVersion>{urlBase}
        <device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType><friendlyName>router</friendlyName>
        <serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType><serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId>
        <SCPDURL>/L3F.xml</SCPDURL><controlURL>/ctl/L3F</controlURL><eventSubURL>/evt/L3F</eventSubURL></service></serviceList>
        <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType>
        <deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
        <serviceList>{services}</serviceList></device></deviceList></device></deviceList></device></root>
        """;

    internal static string Service(string type, string control)
        => $"<service><serviceType>{type}</serviceType><serviceId>x</serviceId><SCPDURL>/s.xml</SCPDURL><controlURL>{control}</controlURL><eventSubURL>/evt</eventSubURL></service>";

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public void MiniupnpdShape_FindsTheWanIpConnection()
    {
        string xml = Gateway(Service("urn:schemas-upnp-org:service:WANIPConnection:2", "/ctl/IPConn")
            + Service("urn:schemas-upnp-org:service:WANIPv6FirewallControl:1", "/ctl/IP6FCtl"));
        Assert.True(UpnpDescription.TryParse(Bytes(xml), Location, out IReadOnlyList<UpnpService>? services, out string? error), error);
        UpnpService service = Assert.Single(services);
        Assert.Equal("urn:schemas-upnp-org:service:WANIPConnection:2", service.ServiceType);
        Assert.Equal(new Uri("http://192.168.77.1:44121/ctl/IPConn"), service.ControlUrl);
    }

    [Fact]
    public void ABrokenEncodingDeclaration_TheFrameworksReaderThrowsArgumentOn_IsRefusedAsXml()
    {
        // Found by the upnp-xml fuzz target: an XML declaration whose version runs into bytes that are not UTF-8.
        // XmlTextReader's encoding switch copies a negative count and throws ArgumentOutOfRangeException.
        byte[] document = [.. "<?xml version=\"1.0"u8, .. Enumerable.Repeat((byte)0xEB, 27), 0xF5, 0xEB, .. "1.0\"?><se xmlns:sW\"P\" s:e=\"h\"><"u8];
        Assert.False(UpnpDescription.TryParse(document, Location, out _, out string? error));
        Assert.StartsWith("the description is not acceptable XML", error, StringComparison.Ordinal);
        Assert.False(UpnpSoap.TryParseResponse(document, "GetExternalIPAddress", out _, out error));
        Assert.StartsWith("the answer is not acceptable XML", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Services_AreRanked_IpV2ThenIpV1ThenPpp()
    {
        string xml = Gateway(Service("urn:schemas-upnp-org:service:WANPPPConnection:1", "/ppp")
            + Service("urn:schemas-upnp-org:service:WANIPConnection:1", "/ip1")
            + Service("urn:schemas-upnp-org:service:WANIPConnection:2", "/ip2"));
        Assert.True(UpnpDescription.TryParse(Bytes(xml), Location, out IReadOnlyList<UpnpService>? services, out _));
        Assert.Equal(["/ip2", "/ip1", "/ppp"], services.Select(s => s.ControlUrl.AbsolutePath));
    }

    [Fact]
    public void UrlBase_OnTheSameHost_IsUsed_OnAnotherHost_Ignored()
    {
        string service = Service("urn:schemas-upnp-org:service:WANIPConnection:1", "ctl");
        Assert.True(UpnpDescription.TryParse(Bytes(Gateway(service, "<URLBase>http://192.168.77.1:5000/base/</URLBase>")), Location, out IReadOnlyList<UpnpService>? same, out _));
        Assert.Equal(new Uri("http://192.168.77.1:5000/base/ctl"), same[0].ControlUrl);
        Assert.True(UpnpDescription.TryParse(Bytes(Gateway(service, "<URLBase>http://10.9.9.9/</URLBase>")), Location, out IReadOnlyList<UpnpService>? other, out _));
        Assert.Equal(new Uri("http://192.168.77.1:44121/ctl"), other[0].ControlUrl);
    }

    [Theory]
    [InlineData("http://10.0.0.5/ctl")] // another host on the network
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("https://192.168.77.1/ctl")]
    [InlineData("file:///etc/passwd")]
    [InlineData("http://user@192.168.77.1/ctl")]
    public void ControlUrl_ElsewhereThanTheDevice_IsRefused(string control)
    {
        string xml = Gateway(Service("urn:schemas-upnp-org:service:WANIPConnection:1", control));
        Assert.False(UpnpDescription.TryParse(Bytes(xml), Location, out _, out string? error));
        Assert.Contains("control URL", error, StringComparison.Ordinal);
    }

    [Fact]
    public void NoWanService_IsRefused()
    {
        Assert.False(UpnpDescription.TryParse(Bytes(Gateway("")), Location, out _, out string? error));
        Assert.Contains("no WANIPConnection", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ExternalEntity_IsRefused_AndNothingIsRead()
    {
        string path = Path.Combine(Path.GetTempPath(), $"peernet-xxe-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "/ctl/secret");
        try
        {
            string xml = $"""<?xml version="1.0"?><!DOCTYPE root [<!ENTITY x SYSTEM "file://{path}">]>""" + Gateway(Service("urn:schemas-upnp-org:service:WANIPConnection:1", "&x;"))[22..];
            Assert.False(UpnpDescription.TryParse(Bytes(xml), Location, out _, out string? error));
            Assert.Contains("DTD", error, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BillionLaughs_IsRefused()
    {
        var xml = new StringBuilder("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
        for (int i = 1; i < 10; i++)
        {
            xml.Append($"<!ENTITY lol{i} \"").Append(string.Concat(Enumerable.Repeat($"&lol{(i == 1 ? "" : i - 1)};", 10))).Append("\">");
        }

        xml.Append("]><root><URLBase>&lol9;</URLBase></root>");
        Assert.False(UpnpDescription.TryParse(Bytes(xml.ToString()), Location, out _, out string? error));
        Assert.Contains("DTD", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void HugeDocument_IsRefusedBeforeParsing()
    {
        byte[] huge = new byte[UpnpDescription.MaxLength + 1];
        huge.AsSpan().Fill((byte)' ');
        Assert.False(UpnpDescription.TryParse(huge, Location, out _, out string? error));
        Assert.Contains("longer than", error, StringComparison.Ordinal);
    }

    [Fact]
    public void DeepNesting_IsRefused()
    {
        string xml = string.Concat(Enumerable.Repeat("<a>", 200)) + string.Concat(Enumerable.Repeat("</a>", 200));
        Assert.False(UpnpDescription.TryParse(Bytes(xml), Location, out _, out string? error));
        Assert.Contains("deeper", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ManyServices_AreRefused()
    {
        string services = string.Concat(Enumerable.Repeat(Service("urn:x:1", "/c"), UpnpDescription.MaxServices + 1));
        Assert.False(UpnpDescription.TryParse(Bytes(Gateway(services)), Location, out _, out string? error));
        Assert.Contains("services", error, StringComparison.Ordinal);
    }

    [Fact]
    public void LongValue_IsRefused()
    {
        string xml = Gateway(Service("urn:schemas-upnp-org:service:WANIPConnection:1", "/" + new string('c', UpnpDescription.MaxValueLength)));
        Assert.False(UpnpDescription.TryParse(Bytes(xml), Location, out _, out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("<root>")]
    [InlineData("not xml at all")]
    [InlineData("<root><service><serviceType><x/></serviceType></service></root>")]
    public void Malformed_IsRefused(string xml) => Assert.False(UpnpDescription.TryParse(Bytes(xml), Location, out _, out _));
}
