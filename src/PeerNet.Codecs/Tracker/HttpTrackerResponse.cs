using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using PeerNet.Bencode;
using PeerNet.PeerWire;

namespace PeerNet.Tracker;

/// <summary>
/// Parses the bencoded body of an HTTP tracker's announce (BEP 3, 7, 23) and scrape (BEP 48) responses. Liberal
/// like libtorrent about what is optional (a field of the wrong type or out of range counts as absent; a
/// dictionary peer without a usable IP literal and port is skipped), strict about what could cost memory: the
/// body's length, the peer and file counts, and compact lists that are not a whole number of peers.
/// </summary>
internal static partial class HttpTrackerResponse
{
    /// <summary>Parses an announce response. A <c>failure reason</c> is a successful parse of a refusal (<see cref="AnnounceResponse.IsFailure"/>).</summary>
    public static bool TryParseAnnounce(in ReadOnlySequence<byte> body, [NotNullWhen(true)] out AnnounceResponse? response, out TrackerError error, TrackerLimits? limits = null)
    {
        limits ??= TrackerLimits.Default;
        response = null;
        if (!TryParseDocument(body, limits, out BencodeDocument? document, out byte[]? rented, out error))
        {
            return false;
        }

        try
        {
            return TryReadAnnounce(document.Root, limits, out response, out error);
        }
        finally
        {
            document.Dispose();
            SequenceReading.Return(rented);
        }
    }

    /// <summary>Parses a scrape response: a <c>files</c> dictionary of 20-byte info-hashes to counts, or a <c>failure reason</c>.</summary>
    public static bool TryParseScrape(in ReadOnlySequence<byte> body, [NotNullWhen(true)] out ScrapeResponse? response, out TrackerError error, TrackerLimits? limits = null)
    {
        limits ??= TrackerLimits.Default;
        response = null;
        if (!TryParseDocument(body, limits, out BencodeDocument? document, out byte[]? rented, out error))
        {
            return false;
        }

        try
        {
            return TryReadScrape(document.Root, limits, out response, out error);
        }
        finally
        {
            document.Dispose();
            SequenceReading.Return(rented);
        }
    }

    /// <summary>Bencode limits for a response: shallow, and enough values for the peer or file limit with room for extra keys.</summary>
    private static BencodeLimits BencodeLimitsFor(TrackerLimits limits) => new()
    {
        MaxDepth = 16,

        // A dictionary peer is at most 7 values (the dictionary, three keys, three values), a scrape entry 9; the
        // limit allows 10 per entry so the count check below, not the tokenizer, names an over-long list.
        MaxTokens = 256 + (10 * Math.Max(limits.MaxPeers, limits.MaxScrapeFiles) + 10),
        MaxStringLength = limits.MaxResponseBytes,
    };

    private static bool TryParseDocument(in ReadOnlySequence<byte> body, TrackerLimits limits, [NotNullWhen(true)] out BencodeDocument? document, out byte[]? rented, out TrackerError error)
    {
        document = null;
        rented = null;

        // Checked on the length before the body is copied or parsed.
        if (body.Length > limits.MaxResponseBytes)
        {
            error = TrackerError.ResponseTooLarge;
            return false;
        }

        ReadOnlyMemory<byte> data = SequenceReading.Contiguous(body, out rented);
        if (!BencodeDocument.TryParse(data, out document, out _, BencodeLimitsFor(limits)))
        {
            SequenceReading.Return(rented);
            rented = null;
            error = TrackerError.InvalidBencode;
            return false;
        }

        if (!document.Root.IsDictionary)
        {
            document.Dispose();
            document = null;
            SequenceReading.Return(rented);
            rented = null;
            error = TrackerError.NotDictionary;
            return false;
        }

        error = TrackerError.None;
        return true;
    }

    private static bool TryReadAnnounce(BencodeNode root, TrackerLimits limits, out AnnounceResponse? response, out TrackerError error)
    {
        response = null;

        // BEP 3: "If a failure reason is present, then no other keys may be present."
        if (ReadText(root["failure reason"u8]) is { } failure)
        {
            response = AnnounceResponse.Failed(failure);
            error = TrackerError.None;
            return true;
        }

        BencodeNode peers = root["peers"u8];
        ReadOnlySpan<byte> compact4 = peers.StringSpan;
        ReadOnlySpan<byte> compact6 = root["peers6"u8].StringSpan;
        if (compact4.Length % CompactPeer.V4Length != 0 || compact6.Length % CompactPeer.V6Length != 0)
        {
            error = TrackerError.PeerListInvalid;
            return false;
        }

        long count = (compact4.Length / CompactPeer.V4Length) + (compact6.Length / CompactPeer.V6Length) + (peers.IsList ? peers.Count : 0);
        if (count > limits.MaxPeers)
        {
            error = TrackerError.TooManyPeers;
            return false;
        }

        var list = new List<IPEndPoint>((int)count);
        ReadCompact(compact4, CompactPeer.V4Length, list);
        ReadCompact(compact6, CompactPeer.V6Length, list);
        if (peers.IsList)
        {
            foreach (BencodeNode peer in peers.Items)
            {
                // BEP 3's dictionary model: "ip" may be a DNS name, which a codec cannot resolve; those are skipped.
                if (peer["ip"u8].GetString() is { } ip && IPAddress.TryParse(ip, out IPAddress? address)
                    && peer["port"u8].TryGetInt64(out long port) && port is >= 1 and <= ushort.MaxValue)
                {
                    list.Add(new IPEndPoint(address, (int)port));
                }
            }
        }

        response = new AnnounceResponse
        {
            WarningMessage = ReadText(root["warning message"u8]),
            Interval = ReadSeconds(root["interval"u8]),
            MinInterval = ReadSeconds(root["min interval"u8]),
            TrackerId = ReadText(root["tracker id"u8]),
            Complete = ReadCount(root["complete"u8]),
            Incomplete = ReadCount(root["incomplete"u8]),
            Peers = list,
            ExternalAddress = root["external ip"u8].StringSpan is { Length: 4 or 16 } external ? new IPAddress(external) : null,
        };
        error = TrackerError.None;
        return true;
    }

    private static bool TryReadScrape(BencodeNode root, TrackerLimits limits, out ScrapeResponse? response, out TrackerError error)
    {
        response = null;
        if (ReadText(root["failure reason"u8]) is { } failure)
        {
            response = new ScrapeResponse { FailureReason = failure };
            error = TrackerError.None;
            return true;
        }

        BencodeNode files = root["files"u8];
        if (!files.IsDictionary)
        {
            error = TrackerError.ScrapeInvalid;
            return false;
        }

        if (files.Count > limits.MaxScrapeFiles)
        {
            error = TrackerError.TooManyFiles;
            return false;
        }

        var result = new Dictionary<Sha1Hash, ScrapeStats>(files.Count);
        foreach (KeyValuePair<BencodeNode, BencodeNode> entry in files.Entries)
        {
            ReadOnlySpan<byte> key = entry.Key.StringSpan;
            if (key.Length != Sha1Hash.Length || !entry.Value.IsDictionary)
            {
                error = TrackerError.ScrapeInvalid;
                return false;
            }

            result[new Sha1Hash(key)] = new ScrapeStats(
                ReadCount(entry.Value["complete"u8]) ?? 0,
                ReadCount(entry.Value["downloaded"u8]) ?? 0,
                ReadCount(entry.Value["incomplete"u8]) ?? 0);
        }

        response = new ScrapeResponse { Files = result };
        error = TrackerError.None;
        return true;
    }

    private static void ReadCompact(ReadOnlySpan<byte> compact, int size, List<IPEndPoint> into)
    {
        for (int i = 0; i + size <= compact.Length; i += size)
        {
            IPEndPoint peer = CompactPeer.Read(compact.Slice(i, size));
            if (peer.Port != 0)
            {
                into.Add(peer);
            }
        }
    }

    /// <summary>A count in [0, int.MaxValue], else null.</summary>
    internal static int? ReadCount(BencodeNode node) => node.TryGetInt64(out long value) && value is >= 0 and <= int.MaxValue ? (int)value : null;

    /// <summary>Seconds in [0, int.MaxValue] as a duration, else null.</summary>
    private static TimeSpan? ReadSeconds(BencodeNode node) => ReadCount(node) is int seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>A string cut to <see cref="TrackerLimits.MaxTextBytes"/> and decoded as UTF-8 (invalid bytes replaced), else null.</summary>
    internal static string? ReadText(BencodeNode node) => node.IsString ? DecodeText(node.StringSpan) : null;

    /// <summary>UTF-8 text cut to <see cref="TrackerLimits.MaxTextBytes"/>, invalid bytes replaced.</summary>
    internal static string DecodeText(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, TrackerLimits.MaxTextBytes)]);
}
