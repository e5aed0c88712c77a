using System.Buffers;
using System.Net;
using System.Text;
using PeerNet.Tracker;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="HttpTrackerResponse.TryParseAnnounce"/> and <see cref="HttpTrackerResponse.TryParseScrape"/> over the
/// same body: whole and in segments agree; a refusal names an error; an announce stays within the peer limit, every
/// peer has a port, a failure carries nothing else, and writing it back (peers compact) parses to the same fields; a
/// scrape stays within the file limit and writes back to the same counts.
/// </summary>
public static class HttpTrackerTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        byte[] input = data.ToArray();
        string? announce = null;
        string? scrape = null;
        foreach (ReadOnlySequence<byte> shape in Sequences.Shapes(input))
        {
            string a = Announce(shape);
            string s = Scrape(shape);
            announce ??= a;
            scrape ??= s;
            Check.Equal(announce, a, "announce with the input in segments");
            Check.Equal(scrape, s, "scrape with the input in segments");
        }
    }

    private static string Announce(ReadOnlySequence<byte> body)
    {
        if (!HttpTrackerResponse.TryParseAnnounce(body, out AnnounceResponse? response, out TrackerError error))
        {
            Check.That(error != TrackerError.None, "announce refused with no error");
            Check.That(response is null, "announce refused with a response");
            return error.ToString();
        }

        Check.Equal(TrackerError.None, error, "error of a parsed announce");
        Check.That(response.Peers.Count <= TrackerLimits.DefaultMaxPeers, "too many peers");
        Check.That(response.Peers.All(p => p.Port is >= 1 and <= ushort.MaxValue), "a peer without a port");
        if (response.IsFailure)
        {
            Check.That(response.Peers.Count == 0 && response.Interval is null && response.Complete is null, "a failure with other fields");
        }

        var output = new ArrayBufferWriter<byte>();
        HttpTrackerResponse.WriteAnnounce(output, response);
        Check.That(HttpTrackerResponse.TryParseAnnounce(new ReadOnlySequence<byte>(output.WrittenMemory), out AnnounceResponse? again, out TrackerError againError), $"its own encoding is refused: {againError}");
        Check.Equal(Normalized(response), Normalized(again), "announce after a write and parse");
        return Normalized(response);
    }

    private static string Scrape(ReadOnlySequence<byte> body)
    {
        if (!HttpTrackerResponse.TryParseScrape(body, out ScrapeResponse? response, out TrackerError error))
        {
            Check.That(error != TrackerError.None && response is null, "scrape refused without an error, or with a response");
            return error.ToString();
        }

        Check.That(response.Files.Count <= TrackerLimits.DefaultMaxScrapeFiles, "too many files");
        var output = new ArrayBufferWriter<byte>();
        HttpTrackerResponse.WriteScrape(output, response);
        Check.That(HttpTrackerResponse.TryParseScrape(new ReadOnlySequence<byte>(output.WrittenMemory), out ScrapeResponse? again, out TrackerError againError), $"its own scrape encoding is refused: {againError}");
        Check.Equal(Describe(response), Describe(again), "scrape after a write and parse");
        return Describe(response);
    }

    // Peers travel compact on the way back (IPv4 in "peers", IPv6 in "peers6", IPv4-mapped as IPv4), so compare them
    // sorted and mapped. A text whose re-encoding passes the text limit (replacement characters grow) is cut again.
    private static string Normalized(AnnounceResponse r) =>
        $"fail={Text(r.FailureReason)} warn={Text(r.WarningMessage)} interval={r.Interval} min={r.MinInterval} id={Text(r.TrackerId)} "
        + $"complete={r.Complete} incomplete={r.Incomplete} external={r.ExternalAddress} peers={string.Join(",", r.Peers.Select(Map).Order(StringComparer.Ordinal))}";

    private static string? Text(string? text) => text is not null && Encoding.UTF8.GetByteCount(text) > TrackerLimits.MaxTextBytes ? "(long)" : text;

    private static string Map(IPEndPoint e) => (e.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(e.Address.MapToIPv4(), e.Port) : e).ToString();

    private static string Describe(ScrapeResponse r) =>
        $"fail={Text(r.FailureReason)} files={string.Join(",", r.Files.OrderBy(f => f.Key).Select(f => $"{f.Key}:{f.Value}"))}";
}
