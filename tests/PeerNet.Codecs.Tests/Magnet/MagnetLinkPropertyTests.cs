using System.Net;
using CsCheck;
using PeerNet.Magnet;

namespace PeerNet.Codecs.Tests.Magnet;

public sealed class MagnetLinkPropertyTests
{
    // Pieces chosen to hit every escaping rule: unreserved, reserved, '+', '%', multi-byte and astral characters.
    private static readonly Gen<string> Text =
        Gen.OneOf("a", "Z", "0", " ", "+", "%", "%20", "&", "=", "#", "?", "/", ":", ",", "~", "-", ".", "_", "é", "日", "😀", "\t")
            .Array[1, 8]
            .Select(parts => string.Concat(parts));

    private static readonly Gen<InfoHashes> Hashes =
        Gen.Select(Gen.Byte.Array[Sha1Hash.Length], Gen.Byte.Array[Sha256Hash.Length], Gen.Int[0, 2], (a, b, kind) => kind switch
        {
            0 => new InfoHashes(new Sha1Hash(a), null),
            1 => new InfoHashes(null, new Sha256Hash(b)),
            _ => new InfoHashes(new Sha1Hash(a), new Sha256Hash(b)),
        });

    private static readonly Gen<MagnetPeer> Peer = Gen.OneOf(
        Gen.Select(Gen.Byte, Gen.Byte, Gen.Byte, Gen.Byte, Gen.Int[1, 65535], (a, b, c, d, port) => new MagnetPeer($"{a}.{b}.{c}.{d}", port)),
        Gen.Select(Gen.Byte.Array[16], Gen.Int[1, 65535], (bytes, port) => new MagnetPeer(new IPAddress(bytes).ToString(), port)),
        Gen.Select(Gen.Char["abcxyz019-_"].Array[1, 12], Gen.Int[1, 65535], (chars, port) => new MagnetPeer(new string(chars) + ".example", port)));

    private static readonly Gen<FileIndexRange> Range =
        Gen.Select(Gen.Int[0, int.MaxValue - 100], Gen.Int[0, 100], (first, extra) => new FileIndexRange(first, first + extra));

    private static readonly Gen<MagnetLink> Link = Gen.Select(
        Hashes,
        Text.Null(),
        Gen.Select(Gen.OneOf("http://", "udp://", "wss://"), Text, (scheme, rest) => scheme + rest).Array[0, 5],
        Gen.Select(Gen.Const("https://"), Text, (scheme, rest) => scheme + rest).Array[0, 3],
        Peer.Array[0, 5],
        Range.Array[0, 5],
        Gen.Long[0, long.MaxValue].Nullable(),
        (hashes, name, trackers, webSeeds, peers, ranges, length) =>
            MagnetLink.Create(hashes, name, trackers, webSeeds, peers, ranges, length));

    private static readonly Gen<string> Fragment = Gen.OneOf(
        Gen.Const(MagnetLinkTests.Btih),
        Gen.Const(MagnetLinkTests.Btmh),
        Gen.Const("xt=urn:btih:" + MagnetLinkTests.V1Base32),
        Gen.Const("xt=urn:ed2k:abc"),
        Gen.Const("x.pe=[::1]:1"),
        Gen.Const("so=1,3-4"),
        Gen.Const(""),
        Text.Select(t => "dn=" + t),
        Text.Select(t => "tr.1=" + t),
        Text.Select(t => "ws=" + t),
        Text.Select(t => "kt=" + t),
        Text.Select(t => t + "=" + t),
        Text);

    [Fact]
    public void RoundTrip_CreatedLink_ParsesBackToEqualLink()
    {
        Link.Sample(link =>
        {
            MagnetLink parsed = MagnetLink.Parse(link.ToString());

            MagnetLinkAssert.Same(link, parsed);
        });
    }

    [Fact]
    public void RoundTrip_CreatedLink_DisplayNameEscapedAsUriEscapeDataString()
    {
        Gen.Select(Hashes, Text).Sample((hashes, name) =>
        {
            string link = MagnetLink.Create(hashes, name).ToString();

            Assert.Contains("&dn=" + Uri.EscapeDataString(name), link, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void RoundTrip_AnyAcceptedLink_ToStringIsAFixedPoint()
    {
        int accepted = 0;
        Fragment.Array[0, 8].Select(parts => "magnet:?" + string.Join('&', parts)).Sample(text =>
        {
            if (MagnetLink.TryParse(text, out MagnetLink? link, out string? error))
            {
                Interlocked.Increment(ref accepted);
                MagnetLink again = MagnetLink.Parse(link.ToString());
                MagnetLinkAssert.Same(link, again);
            }
            else
            {
                Assert.StartsWith("invalid magnet link: ", error, StringComparison.Ordinal);
            }
        });

        // The generator is meant to reach the success path too, not only the refusals.
        Assert.True(accepted > 0);
    }

    [Fact]
    public void TryParse_ArbitraryText_NeverThrows()
    {
        Gen.Select(Gen.OneOf("magnet:?", "MAGNET:?", ""), Gen.String).Sample((prefix, rest) =>
        {
            bool ok = MagnetLink.TryParse(prefix + rest, out MagnetLink? link, out string? error);

            Assert.Equal(ok, link is not null);
            Assert.Equal(ok, error is null);
        });
    }
}

/// <summary>Field-by-field equality of two magnet links (the type has reference equality).</summary>
internal static class MagnetLinkAssert
{
    public static void Same(MagnetLink expected, MagnetLink actual)
    {
        Assert.Equal(expected.InfoHashes, actual.InfoHashes);
        Assert.Equal(expected.DisplayName, actual.DisplayName);
        Assert.Equal(expected.ExactLength, actual.ExactLength);
        Assert.Equal(expected.Trackers, actual.Trackers);
        Assert.Equal(expected.WebSeeds, actual.WebSeeds);
        Assert.Equal(expected.Peers, actual.Peers);
        Assert.Equal(expected.SelectOnly, actual.SelectOnly);
        Assert.Equal(expected.OtherParameters.Keys, actual.OtherParameters.Keys);
        foreach ((string key, IReadOnlyList<string> values) in expected.OtherParameters)
        {
            Assert.Equal(values, actual.OtherParameters[key]);
        }

        Assert.Equal(expected.ToString(), actual.ToString());
    }
}
