using System.Text;
using PeerNet.PortMapping;

namespace PeerNet.Codecs.Tests.PortMapping;

/// <summary>SSDP: the M-SEARCH written, and which answers are accepted.</summary>
public sealed class SsdpTests
{
    private const string MiniupnpdAnswer =
        "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
        + "USN: uuid:11111111-2222-3333-4444-555555555555::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nEXT:\r\n"
        + "SERVER: Debian UPnP/1.1 MiniUPnPd/2.3.1\r\nLOCATION: http://192.168.77.1:44121/rootDesc.xml\r\n"
        + "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n01-NLS: 1796614925\r\nBOOTID.UPNP.ORG: 1796614925\r\n"
        + "CONFIGID.UPNP.ORG: 1337\r\n\r\n";

    [Fact]
    public void Search_IsTheArchitectureForm()
        => Assert.Equal(
            "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 2\r\n"
            + "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n",
            Encoding.ASCII.GetString(Ssdp.CreateSearch()));

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Search_WithMxOutOfRange_Throws(int mx) => Assert.Throws<ArgumentOutOfRangeException>(() => Ssdp.CreateSearch(mx: mx));

    [Fact]
    public void Search_WithAControlCharacterInTheTarget_Throws() => Assert.Throws<ArgumentException>(() => Ssdp.CreateSearch("a\r\nX: y"));

    [Fact]
    public void MiniupnpdAnswer_IsRead()
    {
        Assert.True(Ssdp.TryParseResponse(Encoding.ASCII.GetBytes(MiniupnpdAnswer), out SsdpResponse? response, out SsdpError error), error.Describe());
        Assert.Equal(new Uri("http://192.168.77.1:44121/rootDesc.xml"), response.Location);
        Assert.Equal(Ssdp.InternetGatewayDevice, response.SearchTarget);
        Assert.StartsWith("uuid:11111111", response.UniqueServiceName, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderNames_IgnoreCase_AndBareLineFeedsAreAccepted()
    {
        string text = "HTTP/1.0 200 OK\nlocation:http://10.0.0.1:80/d.xml\nst:  upnp:rootdevice \n\n";
        Assert.True(Ssdp.TryParseResponse(Encoding.ASCII.GetBytes(text), out SsdpResponse? response, out _));
        Assert.Equal("upnp:rootdevice", response.SearchTarget);
        Assert.Null(response.UniqueServiceName);
    }

    [Theory]
    [InlineData("NOTIFY * HTTP/1.1\r\nLOCATION: http://a/\r\nST: x\r\n\r\n", (int)SsdpError.NotOk)]
    [InlineData("HTTP/1.1 404 Not Found\r\nLOCATION: http://a/\r\nST: x\r\n\r\n", (int)SsdpError.NotOk)]
    [InlineData("HTTP/1.1 2000\r\nLOCATION: http://a/\r\nST: x\r\n\r\n", (int)SsdpError.NotOk)]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: http://a/\r\nST: x\r\n", (int)SsdpError.Incomplete)]
    [InlineData("HTTP/1.1 200 OK\r\nST: x\r\n\r\n", (int)SsdpError.BadLocation)]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: https://a/\r\nST: x\r\n\r\n", (int)SsdpError.BadLocation)]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\nST: x\r\n\r\n", (int)SsdpError.BadLocation)]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: /relative.xml\r\nST: x\r\n\r\n", (int)SsdpError.BadLocation)]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: http://user:pw@a/\r\nST: x\r\n\r\n", (int)SsdpError.BadLocation)]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: http://a/\r\n\r\n", (int)SsdpError.MissingSearchTarget)]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: http://a/\r\nLOCATION: http://b/\r\nST: x\r\n\r\n", (int)SsdpError.DuplicateHeader)]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", (int)SsdpError.MalformedHeader)]
    [InlineData("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", (int)SsdpError.MalformedHeader)]
    [InlineData("HTTP/1.1 200 OK\r\nST: a\u0001b\r\n\r\n", (int)SsdpError.MalformedHeader)]
    public void Malformed_IsRefused(string text, int expected)
    {
        Assert.False(Ssdp.TryParseResponse(Encoding.Latin1.GetBytes(text), out SsdpResponse? response, out SsdpError error));
        Assert.Null(response);
        Assert.Equal((SsdpError)expected, error);
    }

    [Fact]
    public void Oversized_IsRefusedUnread()
    {
        byte[] big = Encoding.ASCII.GetBytes(MiniupnpdAnswer.PadRight(Ssdp.MaxResponseLength + 1, 'x'));
        Assert.False(Ssdp.TryParseResponse(big, out _, out SsdpError error));
        Assert.Equal(SsdpError.TooLong, error);
    }

    [Fact]
    public void LongLine_IsRefused()
    {
        string text = "HTTP/1.1 200 OK\r\nX: " + new string('a', Ssdp.MaxLineLength) + "\r\n\r\n";
        Assert.False(Ssdp.TryParseResponse(Encoding.ASCII.GetBytes(text), out _, out SsdpError error));
        Assert.Equal(SsdpError.LineTooLong, error);
    }

    [Fact]
    public void ManyHeaders_AreRefused_AtTheLimitAccepted()
    {
        string Answer(int extra) => "HTTP/1.1 200 OK\r\nLOCATION: http://a/\r\nST: x\r\n" + string.Concat(Enumerable.Repeat("X: y\r\n", extra)) + "\r\n";
        Assert.True(Ssdp.TryParseResponse(Encoding.ASCII.GetBytes(Answer(Ssdp.MaxHeaders - 2)), out _, out _));
        Assert.False(Ssdp.TryParseResponse(Encoding.ASCII.GetBytes(Answer(Ssdp.MaxHeaders - 1)), out _, out SsdpError error));
        Assert.Equal(SsdpError.TooManyHeaders, error);
    }
}
