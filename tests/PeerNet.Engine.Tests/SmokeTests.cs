namespace PeerNet.Engine.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Sha1Hash_RoundTripsThroughHex()
    {
        Sha1Hash h = Sha1Hash.Compute("abc"u8);
        Assert.Equal("a9993e364706816aba3e25717850c26c9cd0d89d", h.ToString());
        Assert.Equal(h, Sha1Hash.ParseHex(h.ToString()));
    }
}
