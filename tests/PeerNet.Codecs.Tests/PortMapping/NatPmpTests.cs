using System.Net;
using PeerNet.PortMapping;

namespace PeerNet.Codecs.Tests.PortMapping;

/// <summary>NAT-PMP (RFC 6886): the requests written byte for byte, and what is accepted as a response.</summary>
public sealed class NatPmpTests
{
    [Fact]
    public void ExternalAddressRequest_IsVersionZeroOpcodeZero()
    {
        byte[] request = new byte[NatPmp.ExternalAddressRequestLength];
        Assert.Equal(2, NatPmp.WriteExternalAddressRequest(request));
        Assert.Equal(new byte[] { 0, 0 }, request);
    }

    [Fact]
    public void MappingRequest_IsTheRfcLayout()
    {
        byte[] request = new byte[NatPmp.MappingRequestLength];
        Assert.Equal(12, NatPmp.WriteMappingRequest(request, NatPmpOpcode.MapTcp, 6881, 6882, 7200));
        Assert.Equal(new byte[] { 0, 2, 0, 0, 0x1a, 0xe1, 0x1a, 0xe2, 0, 0, 0x1c, 0x20 }, request);
    }

    [Fact]
    public void RemovalRequest_HasLifetimeAndSuggestedPortZero()
    {
        byte[] request = new byte[NatPmp.MappingRequestLength];
        NatPmp.WriteMappingRequest(request, NatPmpOpcode.MapUdp, 6881, 6881, 0);
        Assert.Equal(new byte[] { 0, 1, 0, 0, 0x1a, 0xe1, 0, 0, 0, 0, 0, 0 }, request);
    }

    [Fact]
    public void MappingRequest_ForTheAddressOpcode_Throws()
        => Assert.Throws<ArgumentException>(() => NatPmp.WriteMappingRequest(new byte[12], NatPmpOpcode.ExternalAddress, 1, 1, 1));

    [Fact]
    public void ExternalAddressResponse_IsRead()
    {
        byte[] datagram = [0, 128, 0, 0, 0, 0, 0, 42, 11, 22, 33, 1];
        Assert.True(NatPmp.TryParseResponse(datagram, out NatPmpResponse? response, out NatPmpError error), error.Describe());
        Assert.Equal(new NatPmpResponse(NatPmpOpcode.ExternalAddress, NatPmpResult.Success, 42, IPAddress.Parse("11.22.33.1"), 0, 0, 0), response);
    }

    [Fact]
    public void MappingResponse_IsRead_WithTheGrantedPortAndLifetime()
    {
        byte[] datagram = [0, 130, 0, 0, 0, 0, 1, 0, 0x1a, 0xe1, 0xc3, 0x50, 0, 0, 0x0e, 0x10];
        Assert.True(NatPmp.TryParseResponse(datagram, out NatPmpResponse? response, out _));
        Assert.Equal(new NatPmpResponse(NatPmpOpcode.MapTcp, NatPmpResult.Success, 256, null, 6881, 50000, 3600), response);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void ErrorResponse_OfHeaderOnly_IsReadWithItsResult(int code)
    {
        var result = (NatPmpResult)code;
        byte[] datagram = [0, 129, 0, (byte)result, 0, 0, 0, 9];
        Assert.True(NatPmp.TryParseResponse(datagram, out NatPmpResponse? response, out _));
        Assert.Equal(result, response.Result);
        Assert.Equal(NatPmpOpcode.MapUdp, response.Opcode);
        Assert.DoesNotContain("unknown", result.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownResultCode_IsKeptAndDescribed()
    {
        Assert.True(NatPmp.TryParseResponse([0, 128, 0x01, 0x00, 0, 0, 0, 0], out NatPmpResponse? response, out _));
        Assert.Equal("unknown NAT-PMP result code 256", response.Result.Describe());
    }

    [Theory]
    [InlineData(new byte[] { }, (int)NatPmpError.TooShort)]
    [InlineData(new byte[] { 0, 128, 0, 0, 0, 0, 0 }, (int)NatPmpError.TooShort)]
    [InlineData(new byte[] { 0, 128, 0, 0, 0, 0, 0, 1 }, (int)NatPmpError.TooShort)] // success needs the address
    [InlineData(new byte[] { 0, 130, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1 }, (int)NatPmpError.TooShort)]
    [InlineData(new byte[] { 2, 128, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 }, (int)NatPmpError.BadVersion)] // PCP
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 }, (int)NatPmpError.BadOpcode)] // a request, not a response
    [InlineData(new byte[] { 0, 131, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 }, (int)NatPmpError.BadOpcode)]
    [InlineData(new byte[] { 0, 255, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4 }, (int)NatPmpError.BadOpcode)]
    public void Malformed_IsRefused(byte[] datagram, int expected)
    {
        Assert.False(NatPmp.TryParseResponse(datagram, out NatPmpResponse? response, out NatPmpError error));
        Assert.Null(response);
        Assert.Equal((NatPmpError)expected, error);
    }

    [Fact]
    public void TrailingBytes_WithinTheLimit_AreIgnored_PastIt_Refused()
    {
        byte[] datagram = new byte[NatPmp.MaxResponseLength];
        datagram[1] = 128;
        Assert.True(NatPmp.TryParseResponse(datagram, out _, out _));
        Assert.False(NatPmp.TryParseResponse(new byte[NatPmp.MaxResponseLength + 1], out _, out NatPmpError error));
        Assert.Equal(NatPmpError.TooLong, error);
    }
}
