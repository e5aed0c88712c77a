using System.Diagnostics.CodeAnalysis;
using System.Xml;

namespace PeerNet.PortMapping;

/// <summary>A WAN connection service of a gateway: what SOAP actions are sent to, and which service type they name.</summary>
/// <param name="ServiceType">The service type, such as <c>urn:schemas-upnp-org:service:WANIPConnection:1</c>.</param>
/// <param name="ControlUrl">Where its actions are posted: an absolute <c>http</c> URL on the description's host.</param>
internal sealed record UpnpService(string ServiceType, Uri ControlUrl);

/// <summary>
/// Reads a UPnP device description (UPnP Device Architecture 1.1, section 2.3) for the services port mappings are made
/// with: <c>WANIPConnection</c> (versions 1 and 2) and <c>WANPPPConnection:1</c>. Pure: the engine fetches the document.
/// </summary>
internal static class UpnpDescription
{
    /// <summary>Largest description read: 64 KiB (a gateway's is 2 to 10 KiB). Longer ones are refused unread.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>Most services looked at in one description: 64.</summary>
    public const int MaxServices = 64;

    /// <summary>Longest URL or service type kept: 1,024 characters.</summary>
    public const int MaxValueLength = 1024;

    private const string ServicePrefix = "urn:schemas-upnp-org:service:";

    /// <summary>
    /// The WAN connection services of the description at <paramref name="location"/>, best first: <c>WANIPConnection</c>
    /// (version 2, then 1) before <c>WANPPPConnection</c>, in document order within each. A control URL is resolved
    /// against <c>URLBase</c> when the document has one, else against <paramref name="location"/>; one that is not
    /// <c>http</c> or points at another host than <paramref name="location"/>'s is skipped (a description must not send
    /// the node's requests elsewhere on the network). False, with the reason, for a document that is too long, not
    /// well-formed XML, has a DTD, nests too deep, or names no usable service.
    /// </summary>
    public static bool TryParse(byte[] document, Uri location, [NotNullWhen(true)] out IReadOnlyList<UpnpService>? services, [NotNullWhen(false)] out string? error)
    {
        services = null;
        if (document.Length > MaxLength)
        {
            error = $"the description is longer than {MaxLength} bytes";
            return false;
        }

        var found = new List<(string Type, string Control)>();
        string? urlBase = null;
        try
        {
            using XmlReader reader = UpnpXml.Create(document, MaxLength);
            int seen = 0;
            bool read = UpnpXml.Read(reader);
            while (read)
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "URLBase" && reader.Depth == 1)
                {
                    urlBase = UpnpXml.ReadText(reader, MaxValueLength); // leaves the reader on the next node
                    read = !reader.EOF;
                    continue;
                }

                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "service")
                {
                    if (++seen > MaxServices)
                    {
                        error = $"the description has more than {MaxServices} services";
                        return false;
                    }

                    (string? type, string? control) = ReadService(reader);
                    if (type is not null && control is not null && Rank(type) > 0)
                    {
                        found.Add((type, control));
                    }
                }

                read = UpnpXml.Read(reader);
            }
        }
        catch (Exception e) when (UpnpXml.IsMalformed(e))
        {
            error = "the description is not acceptable XML: " + e.Message;
            return false;
        }

        Uri baseUri = location;
        if (!string.IsNullOrEmpty(urlBase) && Uri.TryCreate(urlBase, UriKind.Absolute, out Uri? parsedBase) && IsSameHttpHost(parsedBase, location))
        {
            baseUri = parsedBase;
        }

        var usable = new List<UpnpService>();
        foreach ((string type, string control) in found.OrderByDescending(s => Rank(s.Type)))
        {
            if (Uri.TryCreate(baseUri, control, out Uri? url) && IsSameHttpHost(url, location))
            {
                usable.Add(new UpnpService(type, url));
            }
        }

        if (usable.Count == 0)
        {
            error = found.Count == 0
                ? "the device has no WANIPConnection or WANPPPConnection service"
                : "the WAN connection service's control URL is not an http URL on the device's host";
            return false;
        }

        services = usable;
        error = null;
        return true;
    }

    /// <summary>3 for WANIPConnection:2, 2 for WANIPConnection:1, 1 for WANPPPConnection:1, 0 for anything else.</summary>
    private static int Rank(string serviceType) => serviceType switch
    {
        ServicePrefix + "WANIPConnection:2" => 3,
        ServicePrefix + "WANIPConnection:1" => 2,
        ServicePrefix + "WANPPPConnection:1" => 1,
        _ => 0,
    };

    private static bool IsSameHttpHost(Uri url, Uri location)
        => url.Scheme == Uri.UriSchemeHttp && string.IsNullOrEmpty(url.UserInfo) && string.Equals(url.Host, location.Host, StringComparison.OrdinalIgnoreCase);

    /// <summary>The <c>serviceType</c> and <c>controlURL</c> of the <c>service</c> element the reader is on.</summary>
    private static (string? Type, string? Control) ReadService(XmlReader reader)
    {
        if (reader.IsEmptyElement)
        {
            return (null, null);
        }

        string? type = null, control = null;
        int depth = reader.Depth;
        bool read = UpnpXml.Read(reader);
        while (read && !(reader.NodeType == XmlNodeType.EndElement && reader.Depth == depth))
        {
            if (reader.NodeType == XmlNodeType.Element && reader.Depth == depth + 1)
            {
                // Each of these leaves the reader on the node after the element.
                switch (reader.LocalName)
                {
                    case "serviceType":
                        type = UpnpXml.ReadText(reader, MaxValueLength);
                        break;
                    case "controlURL":
                        control = UpnpXml.ReadText(reader, MaxValueLength);
                        break;
                    default:
                        reader.Skip();
                        break;
                }

                read = !reader.EOF;
                continue;
            }

            read = UpnpXml.Read(reader);
        }

        return (type, control);
    }
}
