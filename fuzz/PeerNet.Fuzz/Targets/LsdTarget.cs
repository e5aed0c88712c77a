using PeerNet.Lsd;

namespace PeerNet.Fuzz;

/// <summary>
/// <see cref="LsdMessage.TryParse"/> (BEP 14 announces): a refusal names an error; an accepted announce keeps every
/// limit (datagram length, distinct info-hashes, port, cookie), and <see cref="LsdMessage.Write"/> writes it back,
/// within the datagram limit and in exactly <see cref="LsdMessage.GetLength"/> bytes, to a message that parses to
/// the same announce and writes to the same bytes.
/// </summary>
public static class LsdTarget
{
    public static void Fuzz(ReadOnlySpan<byte> data)
    {
        if (!LsdMessage.TryParse(data, out LsdAnnounce? announce, out LsdError error))
        {
            Check.That(error != LsdError.None, "refused with no error");
            Check.That(announce is null, "refused with an announce");
            return;
        }

        Check.Equal(LsdError.None, error, "error of an accepted announce");
        Check.That(data.Length <= LsdLimits.MaxMessageLength, "accepted an oversized datagram");
        Check.That(announce.Port is >= 1 and <= 65535, $"port {announce.Port}");
        Check.That(announce.InfoHashes.Count is >= 1 and <= LsdLimits.MaxInfoHashes, $"{announce.InfoHashes.Count} info-hashes");
        Check.Equal(announce.InfoHashes.Count, announce.InfoHashes.Distinct().Count(), "distinct info-hashes");
        Check.That(announce.Cookie is null || announce.Cookie.Length <= LsdLimits.MaxCookieLength, "cookie over the limit");

        Sha1Hash[] hashes = [.. announce.InfoHashes];
        int length = LsdMessage.GetLength(announce.Host, announce.Port, hashes.Length, announce.Cookie);
        Check.That(length <= LsdLimits.MaxMessageLength, $"its own encoding is {length} bytes");
        var once = new byte[length];
        Check.Equal(length, LsdMessage.Write(once, announce.Host, announce.Port, hashes, announce.Cookie), "bytes written");
        Check.That(LsdMessage.TryParse(once, out LsdAnnounce? again, out LsdError againError), $"its own encoding is refused: {againError}");
        Check.Equal(announce, again, "announce after a write and parse");
        var twice = new byte[length];
        LsdMessage.Write(twice, again.Host, again.Port, [.. again.InfoHashes], again.Cookie);
        Check.Bytes(once, twice, "encoding after a second round trip");
    }
}
