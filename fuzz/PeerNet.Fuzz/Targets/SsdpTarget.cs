using System.Text;
using PeerNet.PortMapping;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="Ssdp.TryParseResponse"/> (answers to an M-SEARCH): a refusal names an error and gives no answer; an
/// accepted one is within the size limit, has an absolute http LOCATION with a host and no user info, a non-empty ST
/// of printable ASCII, and written back as a canonical answer parses to the same LOCATION, ST and USN.
/// </summary>
public static class SsdpTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (!Ssdp.TryParseResponse(data, out SsdpResponse? response, out SsdpError error))
        {
            Check.That(error != SsdpError.None, "refused with no error");
            Check.That(response is null, "refused with an answer");
            return;
        }

        Check.That(data.Length <= Ssdp.MaxResponseLength, "accepted an oversized answer");
        Check.That(response.Location.IsAbsoluteUri && response.Location.Scheme == Uri.UriSchemeHttp, $"LOCATION {response.Location}");
        Check.That(response.Location.Host.Length > 0 && response.Location.UserInfo.Length == 0, $"LOCATION host {response.Location}");
        Check.That(response.SearchTarget.Length > 0 && !response.SearchTarget.AsSpan().ContainsAnyExceptInRange(' ', '~'), "ST");
        Check.That(response.SearchTarget.Trim() == response.SearchTarget, "ST is trimmed");

        string canonical = $"HTTP/1.1 200 OK\r\nLOCATION: {response.Location.OriginalString}\r\nST: {response.SearchTarget}\r\n"
            + (response.UniqueServiceName is { } usn ? $"USN: {usn}\r\n" : "") + "\r\n";
        byte[] bytes = Encoding.ASCII.GetBytes(canonical);
        if (bytes.Length <= Ssdp.MaxResponseLength)
        {
            Check.That(Ssdp.TryParseResponse(bytes, out SsdpResponse? again, out SsdpError againError), $"its canonical form is refused: {againError}");
            Check.Equal(response.Location, again.Location, "LOCATION after a write and parse");
            Check.Equal(response.SearchTarget, again.SearchTarget, "ST after a write and parse");
            Check.Equal(response.UniqueServiceName, again.UniqueServiceName, "USN after a write and parse");
        }
    }
}
