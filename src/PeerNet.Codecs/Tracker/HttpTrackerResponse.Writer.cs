using System.Buffers;
using System.Net;
using PeerNet.Bencode;
using PeerNet.PeerWire;

namespace PeerNet.Tracker;

internal static partial class HttpTrackerResponse
{
    /// <summary>
    /// Writes an announce response as a tracker would (for fakes in tests and for fuzz round trips): a failure alone,
    /// or every present field with the peers compact, IPv4 in <c>peers</c> and IPv6 in <c>peers6</c>; keys sorted.
    /// </summary>
    public static void WriteAnnounce(IBufferWriter<byte> output, AnnounceResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var w = new BencodeWriter(output);
        if (WroteFailure(w, response.FailureReason))
        {
            return;
        }

        WriteCount(w, "complete"u8, response.Complete);
        if (response.ExternalAddress is { } external)
        {
            w.WriteString("external ip"u8);
            w.WriteString(external.GetAddressBytes());
        }

        WriteCount(w, "incomplete"u8, response.Incomplete);
        WriteCount(w, "interval"u8, Seconds(response.Interval));
        WriteCount(w, "min interval"u8, Seconds(response.MinInterval));
        w.WriteString("peers"u8);
        w.WriteString(Compact(response.Peers, v4: true));
        w.WriteString("peers6"u8);
        w.WriteString(Compact(response.Peers, v4: false));
        if (response.TrackerId is { } trackerId)
        {
            w.WriteString("tracker id"u8);
            w.WriteString(trackerId);
        }

        if (response.WarningMessage is { } warning)
        {
            w.WriteString("warning message"u8);
            w.WriteString(warning);
        }

        w.WriteEnd();
    }

    /// <summary>Writes a scrape response (for fakes and fuzz round trips): <c>files</c> sorted by info-hash.</summary>
    public static void WriteScrape(IBufferWriter<byte> output, ScrapeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var w = new BencodeWriter(output);
        if (WroteFailure(w, response.FailureReason))
        {
            return;
        }

        w.WriteString("files"u8);
        w.WriteDictionaryStart();
        Span<byte> key = stackalloc byte[Sha1Hash.Length];
        foreach (KeyValuePair<Sha1Hash, ScrapeStats> file in response.Files.OrderBy(f => f.Key))
        {
            file.Key.CopyTo(key);
            w.WriteString(key);
            w.WriteDictionaryStart();
            WriteCount(w, "complete"u8, file.Value.Complete);
            WriteCount(w, "downloaded"u8, file.Value.Downloaded);
            WriteCount(w, "incomplete"u8, file.Value.Incomplete);
            w.WriteEnd();
        }

        w.WriteEnd();
        w.WriteEnd();
    }

    /// <summary>Starts the dictionary; for a refusal writes the whole of it (BEP 3: no other key) and returns true.</summary>
    private static bool WroteFailure(BencodeWriter w, string? failure)
    {
        w.WriteDictionaryStart();
        if (failure is null)
        {
            return false;
        }

        w.WriteString("failure reason"u8);
        w.WriteString(failure);
        w.WriteEnd();
        return true;
    }

    private static void WriteCount(BencodeWriter w, ReadOnlySpan<byte> key, int? value)
    {
        if (value is int v)
        {
            w.WriteString(key);
            w.WriteInteger(v);
        }
    }

    private static int? Seconds(TimeSpan? span) => span is { } s ? (int)Math.Clamp(s.TotalSeconds, 0, int.MaxValue) : null;

    private static byte[] Compact(IReadOnlyList<IPEndPoint> peers, bool v4)
    {
        int size = v4 ? CompactPeer.V4Length : CompactPeer.V6Length;
        var bytes = new byte[peers.Count(p => CompactPeer.IsV4(p.Address) == v4) * size];
        int at = 0;
        foreach (IPEndPoint peer in peers)
        {
            if (CompactPeer.IsV4(peer.Address) == v4)
            {
                at += CompactPeer.Write(bytes.AsSpan(at), peer);
            }
        }

        return bytes;
    }
}
