using System.Text;
using System.Xml.Linq;
using PeerNet.PortMapping;

namespace PeerNet.Codecs.Tests.PortMapping;

/// <summary>SOAP for WANIPConnection: the envelopes written, answers and faults read, hostile answers refused.</summary>
public sealed class UpnpSoapTests
{
    private const string Type = "urn:schemas-upnp-org:service:WANIPConnection:1";

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string Answer(string inner)
        => "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
            + inner + "</s:Body></s:Envelope>";

    private static string Fault(string code, string description)
        => Answer("<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
            + $"<errorCode>{code}</errorCode><errorDescription>{description}</errorDescription></UPnPError></detail></s:Fault>");

    [Fact]
    public void AddPortMapping_HasEveryArgumentInOrder()
    {
        XElement action = XDocument.Parse(UpnpSoap.AddPortMapping(Type, 6881, "TCP", 6881, "192.168.77.2", "PeerNet <&>", 3600)).Root!.Elements().Single().Elements().Single();
        Assert.Equal(XName.Get("AddPortMapping", Type), action.Name);
        Assert.Equal(
            ["NewRemoteHost=", "NewExternalPort=6881", "NewProtocol=TCP", "NewInternalPort=6881", "NewInternalClient=192.168.77.2", "NewEnabled=1", "NewPortMappingDescription=PeerNet <&>", "NewLeaseDuration=3600"],
            action.Elements().Select(e => $"{e.Name.LocalName}={e.Value}"));
    }

    [Fact]
    public void DeleteAndGetExternal_AreWellFormed()
    {
        XElement delete = XDocument.Parse(UpnpSoap.DeletePortMapping(Type, 50000, "UDP")).Root!.Elements().Single().Elements().Single();
        Assert.Equal(["NewRemoteHost=", "NewExternalPort=50000", "NewProtocol=UDP"], delete.Elements().Select(e => $"{e.Name.LocalName}={e.Value}"));
        XElement get = XDocument.Parse(UpnpSoap.GetExternalIPAddress(Type)).Root!.Elements().Single().Elements().Single();
        Assert.Equal(XName.Get("GetExternalIPAddress", Type), get.Name);
        Assert.Equal($"\"{Type}#AddPortMapping\"", UpnpSoap.SoapAction(Type, "AddPortMapping"));
    }

    [Fact]
    public void BadProtocolOrPort_Throws()
    {
        Assert.Throws<ArgumentException>(() => UpnpSoap.DeletePortMapping(Type, 1, "SCTP"));
        Assert.Throws<ArgumentOutOfRangeException>(() => UpnpSoap.DeletePortMapping(Type, 65536, "TCP"));
    }

    [Fact]
    public void Answer_OutArguments_AreRead()
    {
        string xml = Answer($"<u:GetExternalIPAddressResponse xmlns:u=\"{Type}\"><NewExternalIPAddress>11.22.33.1</NewExternalIPAddress></u:GetExternalIPAddressResponse>");
        Assert.True(UpnpSoap.TryParseResponse(Bytes(xml), "GetExternalIPAddress", out UpnpSoapResult? result, out string? error), error);
        Assert.True(result.Succeeded);
        Assert.Equal("11.22.33.1", result.Arguments["NewExternalIPAddress"]);
    }

    [Fact]
    public void EmptyAnswer_Succeeds()
    {
        Assert.True(UpnpSoap.TryParseResponse(Bytes(Answer($"<u:AddPortMappingResponse xmlns:u=\"{Type}\"/>")), "AddPortMapping", out UpnpSoapResult? result, out _));
        Assert.True(result.Succeeded);
        Assert.Empty(result.Arguments);
    }

    [Theory]
    [InlineData(718, "ConflictInMappingEntry")]
    [InlineData(725, "OnlyPermanentLeasesSupported")]
    [InlineData(501, "Action Failed")]
    public void Fault_GivesTheUpnpErrorCode(int code, string description)
    {
        Assert.True(UpnpSoap.TryParseResponse(Bytes(Fault(code.ToString(System.Globalization.CultureInfo.InvariantCulture), description)), "AddPortMapping", out UpnpSoapResult? result, out _));
        Assert.False(result.Succeeded);
        Assert.Equal(code, result.ErrorCode);
        Assert.Equal(description, result.ErrorDescription);
        Assert.StartsWith($"UPnP error {code} (", UpnpErrorCodes.Describe(code, description), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("99999")]
    public void Fault_WithoutAUsableCode_IsRefused(string code)
        => Assert.False(UpnpSoap.TryParseResponse(Bytes(Fault(code, "x")), "AddPortMapping", out _, out _));

    [Fact]
    public void AnswerToAnotherAction_IsRefused()
    {
        string xml = Answer($"<u:DeletePortMappingResponse xmlns:u=\"{Type}\"/>");
        Assert.False(UpnpSoap.TryParseResponse(Bytes(xml), "AddPortMapping", out _, out string? error));
        Assert.Contains("neither", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Doctype_IsRefused()
    {
        string xml = "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY x SYSTEM \"http://10.0.0.9/\">]>" + Answer("<u:GetExternalIPAddressResponse><NewExternalIPAddress>&x;</NewExternalIPAddress></u:GetExternalIPAddressResponse>")[21..];
        Assert.False(UpnpSoap.TryParseResponse(Bytes(xml), "GetExternalIPAddress", out _, out string? error));
        Assert.Contains("DTD", error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Oversized_ManyArguments_LongValues_AreRefused()
    {
        Assert.False(UpnpSoap.TryParseResponse(new byte[UpnpSoap.MaxResponseLength + 1], "A", out _, out _));
        string many = Answer("<u:AResponse xmlns:u=\"x\">" + string.Concat(Enumerable.Range(0, UpnpSoap.MaxArguments + 1).Select(i => $"<N{i}>v</N{i}>")) + "</u:AResponse>");
        Assert.False(UpnpSoap.TryParseResponse(Bytes(many), "A", out _, out _));
        string longValue = Answer("<u:AResponse xmlns:u=\"x\"><N>" + new string('v', UpnpSoap.MaxValueLength + 1) + "</N></u:AResponse>");
        Assert.False(UpnpSoap.TryParseResponse(Bytes(longValue), "A", out _, out _));
    }
}
