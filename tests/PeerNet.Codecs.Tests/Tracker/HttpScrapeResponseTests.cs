using System.Buffers;
using PeerNet.Codecs.Tests.PeerWire;
using PeerNet.Tracker;
using static PeerNet.Codecs.Tests.Tracker.TrackerTestData;

namespace PeerNet.Codecs.Tests.Tracker;

public sealed class HttpScrapeResponseTests
{
    private static readonly Sha1Hash A = Sha1Hash.ParseHex("0123456789abcdef0123456789abcdef01234567");
    private static readonly Sha1Hash B = Sha1Hash.ParseHex("ffffffffffffffffffffffffffffffffffffff00");

    private static ScrapeResponse Parse(byte[] body, TrackerLimits? limits = null)
    {
        ScrapeResponse? first = null;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(body))
        {
            Assert.True(HttpTrackerResponse.TryParseScrape(sequence, out ScrapeResponse? r, out TrackerError error, limits), $"{shape}: {error}");
            first ??= r;
            Assert.Equal(Summary(first), Summary(r));
        }

        return first!;
    }

    private static void Refuse(byte[] body, TrackerError expected, TrackerLimits? limits = null)
    {
        foreach ((string shape, ReadOnlySequence<byte> sequence) in Segments.AllShapes(body))
        {
            Assert.False(HttpTrackerResponse.TryParseScrape(sequence, out ScrapeResponse? r, out TrackerError error, limits), shape);
            Assert.Null(r);
            Assert.Equal(expected, error);
        }
    }

    private static byte[] Entry(Sha1Hash hash, string stats) => Concat(BString(hash.ToArray()), Bytes(stats));

    [Fact]
    public void Scrape_OpentrackerShape_CountsPerHash()
    {
        byte[] body = Concat(Bytes("d5:filesd"), Entry(A, "d8:completei1e10:downloadedi7e10:incompletei2ee"), Entry(B, "de"), Bytes("ee"));
        ScrapeResponse r = Parse(body);
        Assert.Null(r.FailureReason);
        Assert.Equal(new ScrapeStats(1, 7, 2), r.Files[A]);
        Assert.Equal(new ScrapeStats(0, 0, 0), r.Files[B]);
    }

    [Fact]
    public void Scrape_FailureReason_IsARefusal()
        => Assert.Equal("denied", Parse(Bytes("d14:failure reason6:deniede")).FailureReason);

    [Theory]
    [InlineData("de")]
    [InlineData("d5:fileslee")]
    [InlineData("d5:filesd3:abcdeee")]
    public void Scrape_NoValidFilesDictionary_Refused(string body) => Refuse(Bytes(body), TrackerError.ScrapeInvalid);

    [Fact]
    public void Scrape_EntryNotADictionary_Refused()
        => Refuse(Concat(Bytes("d5:filesd"), Entry(A, "i1e"), Bytes("ee")), TrackerError.ScrapeInvalid);

    [Fact]
    public void Scrape_FilesAtLimit_Accepted_AndOneMore_Refused()
    {
        static byte[] Body(int n) => Concat(
            [.. Bytes("d5:filesd"), .. Enumerable.Range(0, n).SelectMany(i => Entry(Sha1Hash.Compute([(byte)i]), "de")), .. Bytes("ee")]);
        var limits = new TrackerLimits { MaxScrapeFiles = 3 };
        Assert.Equal(3, Parse(Body(3), limits).Files.Count);
        Refuse(Body(4), TrackerError.TooManyFiles, limits);
    }

    [Fact]
    public void Scrape_WriteThenParse_RoundTrips()
    {
        var sent = new ScrapeResponse { Files = new Dictionary<Sha1Hash, ScrapeStats> { [B] = new(1, 2, 3), [A] = new(4, 5, 6) } };
        Assert.Equal(Summary(sent), Summary(Parse(Write(o => HttpTrackerResponse.WriteScrape(o, sent)))));
    }
}
