using System.Net;
using PeerNet.Dht;

namespace PeerNet.Codecs.Tests.Dht;

public sealed class NodeIdTests
{
    // BEP 42's test vectors: IP, r (the last byte), and the first 21 bits of the ID.
    [Theory]
    [InlineData("124.31.75.21", 1, "5fbfbf")]
    [InlineData("21.75.31.124", 86, "5a3ce9")]
    [InlineData("65.23.51.170", 22, "a5d432")]
    [InlineData("84.124.73.14", 65, "1b0321")]
    [InlineData("43.213.53.83", 90, "e56f6c")]
    public void Prefix_Bep42Vectors_MatchTheFirst21Bits(string ip, int r, string prefixHex)
    {
        uint expected = Convert.ToUInt32(prefixHex, 16) << 8;
        Assert.Equal(expected & 0xfffff800, NodeIdSecurity.Prefix(IPAddress.Parse(ip), (byte)r));
    }

    [Fact]
    public void IsValid_Bep42ExampleId_IsValidForItsIpOnly()
    {
        NodeId id = NodeId.ParseHex("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401");
        Assert.True(NodeIdSecurity.IsValid(id, IPAddress.Parse("124.31.75.21")));
        Assert.False(NodeIdSecurity.IsValid(id, IPAddress.Parse("21.75.31.124")));
    }

    [Theory]
    [InlineData("203.0.113.9")]
    [InlineData("2001:db8::1")]
    public void Generate_AnyAddress_GivesAValidId(string ip)
    {
        var random = new Random(42);
        for (int i = 0; i < 50; i++)
        {
            Assert.True(NodeIdSecurity.IsValid(NodeIdSecurity.Generate(IPAddress.Parse(ip), random), IPAddress.Parse(ip)));
        }
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("192.168.1.1")]
    [InlineData("172.16.0.1")]
    [InlineData("169.254.0.1")]
    [InlineData("::1")]
    public void IsValid_LocalAddress_IsExempt(string ip)
    {
        Assert.True(NodeIdSecurity.IsValid(NodeId.Random(new Random(1)), IPAddress.Parse(ip)));
    }

    [Fact]
    public void CommonPrefixLength_CountsSharedLeadingBits()
    {
        NodeId a = NodeId.ParseHex("0000000000000000000000000000000000000000");
        Assert.Equal(160, a.CommonPrefixLength(a));
        Assert.Equal(0, a.CommonPrefixLength(a.FlipBit(0)));
        Assert.Equal(70, a.CommonPrefixLength(a.FlipBit(70)));
        Assert.Equal(159, a.CommonPrefixLength(a.FlipBit(159)));
        Assert.True(a.FlipBit(130).GetBit(130));
    }

    [Fact]
    public void CompareDistance_OrdersByXor()
    {
        NodeId target = NodeId.ParseHex("ff00000000000000000000000000000000000000");
        NodeId near = NodeId.ParseHex("ff00000000000000000000000000000000000001");
        NodeId far = NodeId.ParseHex("0000000000000000000000000000000000000000");
        Assert.True(target.CompareDistance(near, far) < 0);
        Assert.True(target.CompareDistance(far, near) > 0);
        Assert.Equal(0, target.CompareDistance(near, near));
    }
}
