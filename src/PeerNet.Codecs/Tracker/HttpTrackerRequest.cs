using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace PeerNet.Tracker;

/// <summary>
/// HTTP tracker URLs: the announce query of BEP 3 (with BEP 23's <c>compact=1</c>) and the scrape URL of BEP 48.
/// Binary values (info-hash, peer id) are percent-encoded byte by byte; the announce URL's own query, such as a
/// private tracker's passkey, is kept.
/// </summary>
internal static class HttpTrackerRequest
{
    private const string HexUpper = "0123456789ABCDEF";

    // RFC 3986 §2.3 unreserved characters: the only bytes sent as they are.
    private static readonly SearchValues<byte> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"u8);

    /// <summary>The full announce URL: <paramref name="announceUrl"/> with the request's parameters appended.</summary>
    public static string BuildAnnounceUrl(string announceUrl, AnnounceRequest request)
    {
        ArgumentNullException.ThrowIfNull(announceUrl);
        ArgumentNullException.ThrowIfNull(request);
        var url = new StringBuilder(announceUrl.Length + 256);
        url.Append(announceUrl).Append(announceUrl.Contains('?', StringComparison.Ordinal) ? '&' : '?');
        Span<byte> bytes = stackalloc byte[Sha1Hash.Length];
        request.InfoHash.CopyTo(bytes);
        url.Append("info_hash=");
        AppendBytes(url, bytes);
        request.PeerId.CopyTo(bytes);
        url.Append("&peer_id=");
        AppendBytes(url, bytes);
        url.Append(CultureInfo.InvariantCulture, $"&port={request.Port}&uploaded={request.Uploaded}&downloaded={request.Downloaded}&left={request.Left}");

        // BEP 23: "compact=1" asks for the compact peer list; no_peer_id lets older trackers leave ids out.
        url.Append("&compact=1&no_peer_id=1");
        string? name = EventName(request.Event);
        if (name is not null)
        {
            url.Append("&event=").Append(name);
        }

        url.Append(CultureInfo.InvariantCulture, $"&numwant={Math.Max(request.NumWant, 0)}&key={request.Key:X8}");
        // BEP 7: our address of each family, so a tracker reached over one family can hand out the other.
        if (request.ExternalIPv4 is { } v4)
        {
            url.Append("&ipv4=").Append(v4.ToString());
        }

        if (request.ExternalIPv6 is { } v6)
        {
            url.Append("&ipv6=").Append(Uri.EscapeDataString(v6.ToString()));
        }

        if (request.TrackerId is { Length: > 0 } trackerId)
        {
            url.Append("&trackerid=");
            AppendBytes(url, Encoding.UTF8.GetBytes(trackerId));
        }

        return url.ToString();
    }

    /// <summary>
    /// The scrape URL of an announce URL (BEP 48): "Begin with the announce URL. Find the last '/' in it. If the
    /// text immediately following that '/' isn't 'announce' it will be taken as a sign that that tracker doesn't
    /// support the scrape convention." Otherwise 'announce' becomes 'scrape' and the rest is kept. A '/' in the
    /// query does not count.
    /// </summary>
    public static bool TryGetScrapeUrl(string announceUrl, [NotNullWhen(true)] out string? scrapeUrl)
    {
        ArgumentNullException.ThrowIfNull(announceUrl);
        scrapeUrl = null;
        int query = announceUrl.IndexOf('?', StringComparison.Ordinal);
        int pathEnd = query < 0 ? announceUrl.Length : query;
        int slash = announceUrl.AsSpan(0, pathEnd).LastIndexOf('/');
        const string Announce = "announce";
        if (slash < 0 || !announceUrl.AsSpan(slash + 1, pathEnd - slash - 1).StartsWith(Announce, StringComparison.Ordinal))
        {
            return false;
        }

        scrapeUrl = string.Concat(announceUrl.AsSpan(0, slash + 1), "scrape", announceUrl.AsSpan(slash + 1 + Announce.Length));
        return true;
    }

    /// <summary>The scrape URL with one <c>info_hash</c> parameter per torrent.</summary>
    public static string BuildScrapeUrl(string scrapeUrl, IEnumerable<Sha1Hash> infoHashes)
    {
        ArgumentNullException.ThrowIfNull(scrapeUrl);
        ArgumentNullException.ThrowIfNull(infoHashes);
        var url = new StringBuilder(scrapeUrl);
        char separator = scrapeUrl.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        Span<byte> bytes = stackalloc byte[Sha1Hash.Length];
        foreach (Sha1Hash hash in infoHashes)
        {
            hash.CopyTo(bytes);
            url.Append(separator).Append("info_hash=");
            AppendBytes(url, bytes);
            separator = '&';
        }

        return url.ToString();
    }

    /// <summary>The HTTP name of an event; null for <see cref="TrackerEvent.None"/>, which BEP 3 sends as no parameter.</summary>
    public static string? EventName(TrackerEvent trackerEvent) => trackerEvent switch
    {
        TrackerEvent.Started => "started",
        TrackerEvent.Completed => "completed",
        TrackerEvent.Stopped => "stopped",
        _ => null,
    };

    /// <summary>Appends every byte as itself when unreserved, else as <c>%XX</c>.</summary>
    public static void AppendBytes(StringBuilder builder, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (byte b in bytes)
        {
            if (Unreserved.Contains(b))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(HexUpper[b >> 4]).Append(HexUpper[b & 0xF]);
            }
        }
    }
}
