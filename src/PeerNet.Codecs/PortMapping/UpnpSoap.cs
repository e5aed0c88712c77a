using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security;
using System.Text;
using System.Xml;

namespace PeerNet.PortMapping;

/// <summary>The answer to a SOAP action: its out arguments, or the UPnP error the device raised.</summary>
/// <param name="Arguments">The out arguments by name (empty for a fault).</param>
/// <param name="ErrorCode">The UPnP error code of a fault (<see cref="UpnpErrorCodes"/>), or null on success.</param>
/// <param name="ErrorDescription">The device's words for the fault, or null.</param>
internal sealed record UpnpSoapResult(IReadOnlyDictionary<string, string> Arguments, int? ErrorCode, string? ErrorDescription)
{
    /// <summary>Whether the action succeeded.</summary>
    public bool Succeeded => ErrorCode is null;
}

/// <summary>The UPnP error codes of WANIPConnection (IGD 1 and 2) that a port mapper acts on.</summary>
internal static class UpnpErrorCodes
{
    /// <summary>402: invalid arguments.</summary>
    public const int InvalidArgs = 402;

    /// <summary>501: the action failed.</summary>
    public const int ActionFailed = 501;

    /// <summary>606: the action is not authorized (IGD 2 with access control).</summary>
    public const int ActionNotAuthorized = 606;

    /// <summary>714: no such entry (deleting a mapping that is not there).</summary>
    public const int NoSuchEntryInArray = 714;

    /// <summary>718: the external port is mapped to another client already.</summary>
    public const int ConflictInMappingEntry = 718;

    /// <summary>724: the internal and external ports must be the same.</summary>
    public const int SamePortValuesRequired = 724;

    /// <summary>725: only permanent leases (lease 0) are supported: retry with lease 0.</summary>
    public const int OnlyPermanentLeasesSupported = 725;

    /// <summary>726: the remote host must be the wildcard (empty).</summary>
    public const int RemoteHostOnlySupportsWildcard = 726;

    /// <summary>727: the external port must be the wildcard.</summary>
    public const int ExternalPortOnlySupportsWildcard = 727;

    /// <summary>728: no port maps available (IGD 2).</summary>
    public const int NoPortMapsAvailable = 728;

    /// <summary>729: conflicts with another mechanism (IGD 2).</summary>
    public const int ConflictWithOtherMechanisms = 729;

    /// <summary>A sentence for an error code, with the device's own words when it gave some.</summary>
    public static string Describe(int code, string? description = null)
    {
        string known = code switch
        {
            InvalidArgs => "invalid arguments",
            ActionFailed => "the action failed",
            ActionNotAuthorized => "the action is not authorized",
            NoSuchEntryInArray => "no such mapping",
            ConflictInMappingEntry => "the port is mapped to another device already",
            SamePortValuesRequired => "the internal and external ports must be the same",
            OnlyPermanentLeasesSupported => "only permanent leases are supported",
            RemoteHostOnlySupportsWildcard => "the remote host must be the wildcard",
            ExternalPortOnlySupportsWildcard => "the external port must be the wildcard",
            NoPortMapsAvailable => "no port mappings available",
            ConflictWithOtherMechanisms => "conflicts with another mechanism",
            _ => "error",
        };
        return string.IsNullOrEmpty(description) ? $"UPnP error {code.ToString(CultureInfo.InvariantCulture)} ({known})"
            : $"UPnP error {code.ToString(CultureInfo.InvariantCulture)} ({known}): {description}";
    }
}

/// <summary>
/// SOAP for a WANIPConnection or WANPPPConnection service (UPnP Device Architecture 1.1, section 3.2): the bodies of
/// <c>AddPortMapping</c>, <c>DeletePortMapping</c> and <c>GetExternalIPAddress</c>, and the reading of their answers and
/// faults. Pure: the engine posts them with the <c>SOAPAction</c> header <see cref="SoapAction"/> gives.
/// </summary>
internal static class UpnpSoap
{
    /// <summary>Largest answer read: 16 KiB (a real one is under 1 KiB). Longer ones are refused unread.</summary>
    public const int MaxResponseLength = 16 * 1024;

    /// <summary>Most out arguments kept: 16.</summary>
    public const int MaxArguments = 16;

    /// <summary>Longest argument value kept: 512 characters.</summary>
    public const int MaxValueLength = 512;

    /// <summary>The value of the <c>SOAPAction</c> header for <paramref name="action"/> of <paramref name="serviceType"/>, quotes included.</summary>
    public static string SoapAction(string serviceType, string action) => $"\"{serviceType}#{action}\"";

    /// <summary>
    /// The envelope of <c>AddPortMapping</c>: <paramref name="externalPort"/> of <paramref name="protocol"/>
    /// (<c>TCP</c> or <c>UDP</c>) to <paramref name="internalClient"/>:<paramref name="internalPort"/>, any remote host,
    /// enabled, for <paramref name="leaseSeconds"/> seconds (0: permanent).
    /// </summary>
    public static string AddPortMapping(string serviceType, int externalPort, string protocol, int internalPort, string internalClient, string description, uint leaseSeconds)
        => Envelope(serviceType, "AddPortMapping", [
            ("NewRemoteHost", ""),
            ("NewExternalPort", Number(externalPort)),
            ("NewProtocol", CheckProtocol(protocol)),
            ("NewInternalPort", Number(internalPort)),
            ("NewInternalClient", internalClient),
            ("NewEnabled", "1"),
            ("NewPortMappingDescription", description),
            ("NewLeaseDuration", leaseSeconds.ToString(CultureInfo.InvariantCulture)),
        ]);

    /// <summary>The envelope of <c>DeletePortMapping</c> for <paramref name="externalPort"/> of <paramref name="protocol"/>, any remote host.</summary>
    public static string DeletePortMapping(string serviceType, int externalPort, string protocol)
        => Envelope(serviceType, "DeletePortMapping", [("NewRemoteHost", ""), ("NewExternalPort", Number(externalPort)), ("NewProtocol", CheckProtocol(protocol))]);

    /// <summary>The envelope of <c>GetExternalIPAddress</c>.</summary>
    public static string GetExternalIPAddress(string serviceType) => Envelope(serviceType, "GetExternalIPAddress", []);

    /// <summary>A SOAP envelope calling <paramref name="action"/> with <paramref name="arguments"/>, every value escaped.</summary>
    public static string Envelope(string serviceType, string action, IReadOnlyList<(string Name, string Value)> arguments)
    {
        var body = new StringBuilder();
        body.Append("<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" ")
            .Append("s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>")
            .Append("<u:").Append(action).Append(" xmlns:u=\"").Append(SecurityElement.Escape(serviceType)).Append("\">");
        foreach ((string name, string value) in arguments)
        {
            body.Append('<').Append(name).Append('>').Append(SecurityElement.Escape(value)).Append("</").Append(name).Append('>');
        }

        body.Append("</u:").Append(action).Append("></s:Body></s:Envelope>\r\n");
        return body.ToString();
    }

    /// <summary>
    /// Reads the answer to <paramref name="action"/>: the children of its <c>...Response</c> element as out arguments, or a
    /// SOAP fault's <c>UPnPError</c> code and description. False, with the reason, for a document that is too long, not
    /// well-formed XML, has a DTD, nests too deep, has too many or too long values, or is neither answer nor fault.
    /// </summary>
    public static bool TryParseResponse(byte[] document, string action, [NotNullWhen(true)] out UpnpSoapResult? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        if (document.Length > MaxResponseLength)
        {
            error = $"the answer is longer than {MaxResponseLength} bytes";
            return false;
        }

        string responseName = action + "Response";
        try
        {
            using XmlReader reader = UpnpXml.Create(document, MaxResponseLength);
            bool read = UpnpXml.Read(reader);
            while (read)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == responseName)
                {
                    result = new UpnpSoapResult(ReadArguments(reader), null, null);
                    error = null;
                    return true;
                }

                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "Fault")
                {
                    return TryReadFault(reader, out result, out error);
                }

                read = UpnpXml.Read(reader);
            }
        }
        catch (Exception e) when (UpnpXml.IsMalformed(e))
        {
            error = "the answer is not acceptable XML: " + e.Message;
            return false;
        }

        error = $"the answer has neither {responseName} nor a SOAP fault";
        return false;
    }

    private static Dictionary<string, string> ReadArguments(XmlReader reader)
    {
        var arguments = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.IsEmptyElement)
        {
            return arguments;
        }

        int depth = reader.Depth;
        bool read = UpnpXml.Read(reader);
        while (read && !(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1)
            {
                if (arguments.Count == MaxArguments)
                {
                    throw new XmlException($"more than {MaxArguments} out arguments");
                }

                string name = reader.LocalName;
                arguments[name] = UpnpXml.ReadText(reader, MaxValueLength);
                read = !reader.EOF;
                continue;
            }

            read = UpnpXml.Read(reader);
        }

        return arguments;
    }

    /// <summary>The <c>errorCode</c> and <c>errorDescription</c> anywhere in the fault the reader is on.</summary>
    private static bool TryReadFault(XmlReader reader, [NotNullWhen(true)] out UpnpSoapResult? result, [NotNullWhen(false)] out string? error)
    {
        result = null;
        string? code = null, description = null;
        int depth = reader.Depth;
        bool read = !reader.IsEmptyElement && UpnpXml.Read(reader);
        while (read && !(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName is "errorCode" or "errorDescription")
            {
                string name = reader.LocalName;
                string value = UpnpXml.ReadText(reader, MaxValueLength);
                if (name == "errorCode")
                {
                    code = value;
                }
                else
                {
                    description = value;
                }

                read = !reader.EOF;
                continue;
            }

            read = UpnpXml.Read(reader);
        }

        if (!int.TryParse(code, NumberStyles.None, CultureInfo.InvariantCulture, out int number) || number > 9999)
        {
            error = "a SOAP fault without a UPnP error code";
            return false;
        }

        result = new UpnpSoapResult(new Dictionary<string, string>(), number, string.IsNullOrEmpty(description) ? null : description);
        error = null;
        return true;
    }

    private static string Number(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return port.ToString(CultureInfo.InvariantCulture);
    }

    private static string CheckProtocol(string protocol)
    {
        if (protocol is not ("TCP" or "UDP"))
        {
            ThrowHelper.ThrowArgument(nameof(protocol), "the protocol is TCP or UDP");
        }

        return protocol;
    }
}
