using PeerNet.PortMapping;

namespace PeerNet.Fuzz;

/// <summary>
/// The UPnP XML readers on what a router sends, by the first byte: even, <see cref="UpnpDescription.TryParse"/> (a
/// device description at a fixed location); odd, <see cref="UpnpSoap.TryParseResponse"/> (an AddPortMapping answer).
/// Neither throws; a refusal names its reason. An accepted description gives 1 to 64 services, each a WAN connection
/// type, each control URL http on the location's host; an accepted answer has at most 16 arguments of at most 512
/// characters, or a fault with a code of 0 to 9999.
/// </summary>
public static class UpnpXmlTarget
{
    private static readonly Uri Location = new("http://192.168.1.1:5000/rootDesc.xml");

    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        byte[] document = data[1..].ToArray();
        if ((data[0] & 1) == 0)
        {
            if (!UpnpDescription.TryParse(document, Location, out IReadOnlyList<UpnpService>? services, out string? error))
            {
                Check.That(!string.IsNullOrEmpty(error), "refused with no reason");
                return;
            }

            Check.That(services.Count is >= 1 and <= UpnpDescription.MaxServices, $"{services.Count} services");
            foreach (UpnpService service in services)
            {
                Check.That(service.ServiceType.StartsWith("urn:schemas-upnp-org:service:WAN", StringComparison.Ordinal), $"service type {service.ServiceType}");
                Check.That(service.ControlUrl.Scheme == Uri.UriSchemeHttp && service.ControlUrl.Host == Location.Host, $"control URL {service.ControlUrl}");
            }

            return;
        }

        if (!UpnpSoap.TryParseResponse(document, "AddPortMapping", out UpnpSoapResult? result, out string? soapError))
        {
            Check.That(!string.IsNullOrEmpty(soapError), "refused with no reason");
            return;
        }

        Check.That(result.Arguments.Count <= UpnpSoap.MaxArguments, $"{result.Arguments.Count} arguments");
        Check.That(result.Arguments.Values.All(v => v.Length <= UpnpSoap.MaxValueLength), "an argument past the length limit");
        Check.That(result.ErrorCode is null or (>= 0 and <= 9999), $"error code {result.ErrorCode}");
        Check.That(result.Succeeded || result.Arguments.Count == 0, "a fault with arguments");
    }
}
