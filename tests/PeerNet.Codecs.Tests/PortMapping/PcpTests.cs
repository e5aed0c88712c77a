using System.Buffers.Binary;
using System.Net;
using PeerNet.PortMapping;

namespace PeerNet.Codecs.Tests.PortMapping;

/// <summary>PCP (RFC 6887): requests written byte for byte, what is accepted as a response, and the epoch rule of section 8.5.</summary>
public sealed class PcpTests
{
    private static readonly PcpNonce Nonce = new(0x0102030405060708, 0x090a0b0c);
    private static readonly IPAddress Client = IPAddress.Parse("192.168.77.2");

    /// <summary>A MAP response as a server writes it: header, body, then the options given.</summary>
    private static byte[] MapResponse(
        PcpResult result = PcpResult.Success,
        uint lifetime = 7200,
        uint epoch = 1234,
        PcpNonce? nonce = null,
        byte protocol = Pcp.Tcp,
        ushort internalPort = 6881,
        ushort externalPort = 6881,
        string external = "::ffff:11.22.33.1",
        byte[]? options = null)
    {
        options ??= [];
        byte[] bytes = new byte[Pcp.MapRequestLength + options.Length];
        bytes[0] = 2;
        bytes[1] = 0x81;
        bytes[3] = (byte)result;
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), lifetime);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), epoch);
        (nonce ?? Nonce).WriteTo(bytes.AsSpan(24));
        bytes[36] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(40), internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(42), externalPort);
        IPAddress.Parse(external).GetAddressBytes().CopyTo(bytes, 44);
        options.CopyTo(bytes, Pcp.MapRequestLength);
        return bytes;
    }

    [Fact]
    public void MapRequest_IsTheRfcLayout()
    {
        byte[] request = new byte[Pcp.MapRequestLength];
        Assert.Equal(60, Pcp.WriteMapRequest(request, Nonce, Pcp.Udp, 6881, 6882, null, 7200, Client));
        byte[] expected =
        [
            2, 1, 0, 0, 0, 0, 0x1c, 0x20, // version 2, R = 0 and MAP, reserved, lifetime 7200
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 77, 2, // the client's address, IPv4-mapped
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, // nonce
            17, 0, 0, 0, 0x1a, 0xe1, 0x1a, 0xe2, // UDP, reserved, internal 6881, suggested 6882
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, // no preferred external address: ::ffff:0.0.0.0
        ];
        Assert.Equal(expected, request);
    }

    [Fact]
    public void MapRequest_FromIPv6_HasTheAddressAsItIs_AndTheIPv6AllZeros()
    {
        byte[] request = new byte[Pcp.MapRequestLength];
        Pcp.WriteMapRequest(request, Nonce, Pcp.Tcp, 1, 1, null, 60, IPAddress.Parse("2001:db8::5"));
        Assert.Equal(IPAddress.Parse("2001:db8::5"), new IPAddress(request.AsSpan(8, 16)));
        Assert.Equal(IPAddress.IPv6Any, new IPAddress(request.AsSpan(44, 16)));
    }

    [Fact]
    public void MapRequest_WithASuggestedAddress_WritesItMapped()
    {
        byte[] request = new byte[Pcp.MapRequestLength];
        Pcp.WriteMapRequest(request, Nonce, Pcp.Tcp, 1, 1, IPAddress.Parse("11.22.33.1"), 60, Client);
        Assert.Equal(IPAddress.Parse("::ffff:11.22.33.1"), new IPAddress(request.AsSpan(44, 16)));
    }

    [Fact]
    public void DeletionRequest_HasLifetimeZero_AndTheSameNonce()
    {
        byte[] request = new byte[Pcp.MapRequestLength];
        Pcp.WriteMapRequest(request, Nonce, Pcp.Tcp, 6881, 0, null, 0, Client);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(4)));
        Assert.Equal(Nonce, PcpNonce.Read(request.AsSpan(24)));
    }

    [Fact]
    public void AnnounceRequest_IsTheHeaderAlone()
    {
        byte[] request = new byte[Pcp.HeaderLength];
        Assert.Equal(24, Pcp.WriteAnnounceRequest(request, Client));
        Assert.Equal(new byte[] { 2, 0, 0, 0, 0, 0, 0, 0 }, request[..8]);
        Assert.Equal(IPAddress.Parse("::ffff:192.168.77.2"), new IPAddress(request.AsSpan(8, 16)));
    }

    [Fact]
    public void Nonce_RoundTrips_AndRandomOnesDiffer()
    {
        byte[] bytes = new byte[PcpNonce.Length];
        Nonce.WriteTo(bytes);
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (byte)i), bytes);
        Assert.Equal(Nonce, PcpNonce.Read(bytes));
        Assert.NotEqual(PcpNonce.NewRandom(), PcpNonce.NewRandom());
    }

    [Fact]
    public void MapResponse_IsRead_TheMappedAddressAsIPv4()
    {
        Assert.True(Pcp.TryParseMapResponse(MapResponse(externalPort: 40000), Nonce, Pcp.Tcp, 6881, out PcpResponse? response, out PcpError error), error.ToString());
        Assert.Equal(new PcpResponse(2, PcpOpcode.Map, PcpResult.Success, 7200, 1234, new PcpMapping(Nonce, Pcp.Tcp, 6881, 40000, IPAddress.Parse("11.22.33.1"))), response);
    }

    [Fact]
    public void MapResponse_WithAnIPv6ExternalAddress_KeepsIt()
    {
        Assert.True(Pcp.TryParseResponse(MapResponse(external: "2001:db8::1"), out PcpResponse? response, out _));
        Assert.Equal(IPAddress.Parse("2001:db8::1"), response.Map!.ExternalAddress);
    }

    [Theory]
    [InlineData("nonce")]
    [InlineData("protocol")]
    [InlineData("port")]
    public void MapResponse_ForAnotherMapping_IsNotOurs(string differs)
    {
        byte[] datagram = differs switch
        {
            "nonce" => MapResponse(nonce: new PcpNonce(1, 2)),
            "protocol" => MapResponse(protocol: Pcp.Udp),
            _ => MapResponse(internalPort: 6882),
        };
        Assert.False(Pcp.TryParseMapResponse(datagram, Nonce, Pcp.Tcp, 6881, out PcpResponse? response, out PcpError error));
        Assert.Null(response);
        Assert.Equal(PcpError.NotOurMapping, error);
    }

    public static TheoryData<byte> Results => [.. Enum.GetValues<PcpResult>().Select(r => (byte)r)];

    [Theory]
    [MemberData(nameof(Results))]
    public void EveryResultCode_IsRead_AndHasItsMeaning(byte code)
    {
        var result = (PcpResult)code;
        Assert.True(Pcp.TryParseMapResponse(MapResponse(result: result, lifetime: 30), Nonce, Pcp.Tcp, 6881, out PcpResponse? response, out _));
        Assert.Equal(result, response.Result);
        Assert.Equal(30u, response.Lifetime);
        string meaning = result.Describe();
        Assert.DoesNotContain("unknown", meaning, StringComparison.Ordinal);
        if (result != PcpResult.Success)
        {
            Assert.Contains(result switch
            {
                PcpResult.UnsupportedVersion => "UNSUPP_VERSION",
                PcpResult.NotAuthorized => "NOT_AUTHORIZED",
                PcpResult.MalformedRequest => "MALFORMED_REQUEST",
                PcpResult.UnsupportedOpcode => "UNSUPP_OPCODE",
                PcpResult.UnsupportedOption => "UNSUPP_OPTION",
                PcpResult.MalformedOption => "MALFORMED_OPTION",
                PcpResult.NetworkFailure => "NETWORK_FAILURE",
                PcpResult.NoResources => "NO_RESOURCES",
                PcpResult.UnsupportedProtocol => "UNSUPP_PROTOCOL",
                PcpResult.UserExceededQuota => "USER_EX_QUOTA",
                PcpResult.CannotProvideExternal => "CANNOT_PROVIDE_EXTERNAL",
                PcpResult.AddressMismatch => "ADDRESS_MISMATCH",
                _ => "EXCESSIVE_REMOTE_PEERS",
            }, meaning, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UnknownResultCode_IsKept_AndSaidToBeUnknown()
    {
        Assert.True(Pcp.TryParseResponse(MapResponse(result: (PcpResult)200), out PcpResponse? response, out _));
        Assert.Equal("unknown PCP result code 200", response.Result.Describe());
    }

    [Fact]
    public void ErrorWithTheHeaderAlone_IsRead_WithoutABody()
    {
        byte[] datagram = MapResponse(result: PcpResult.MalformedRequest).AsSpan(0, 24).ToArray();
        Assert.True(Pcp.TryParseMapResponse(datagram, Nonce, Pcp.Tcp, 6881, out PcpResponse? response, out _));
        Assert.Equal(PcpResult.MalformedRequest, response.Result);
        Assert.Null(response.Map);
    }

    [Fact]
    public void SuccessWithTheHeaderAlone_IsTooShort()
    {
        Assert.False(Pcp.TryParseResponse(MapResponse().AsSpan(0, 24).ToArray(), out _, out PcpError error));
        Assert.Equal(PcpError.TooShort, error);
    }

    [Fact]
    public void NatPmpServersAnswer_IsUnsupportedVersionZero()
    {
        // RFC 6886 section 3.5: version 0, the opcode plus 128, result 1 (16 bits), epoch.
        byte[] natPmp = [0, 129, 0, 1, 0, 0, 0x10, 0];
        Assert.True(Pcp.TryParseResponse(natPmp, out PcpResponse? response, out _));
        Assert.Equal((byte)0, response.Version);
        Assert.Equal(PcpResult.UnsupportedVersion, response.Result);
        Assert.True(Pcp.TryParseMapResponse(natPmp, Nonce, Pcp.Tcp, 6881, out _, out _)); // nothing to match: it is the version answer
    }

    [Fact]
    public void PcpServersUnsupportedVersionAnswer_IsRead()
    {
        byte[] header = MapResponse(result: PcpResult.UnsupportedVersion).AsSpan(0, 24).ToArray();
        header[0] = 1; // a server of the pre-RFC version 1
        Assert.True(Pcp.TryParseResponse(header, out PcpResponse? response, out _));
        Assert.Equal((byte)1, response.Version);
    }

    [Theory]
    [InlineData(new byte[] { 0, 129, 0, 0, 0, 0, 0, 1 })] // version 0 success: a NAT-PMP answer, not ours
    [InlineData(new byte[] { 3, 129, 0, 1 })] // a later version
    [InlineData(new byte[] { 0, 1, 0, 1 })] // version 0 without the response bit
    public void OtherVersions_AreRefused(byte[] datagram)
    {
        Assert.False(Pcp.TryParseResponse(datagram, out _, out PcpError error));
        Assert.Equal(PcpError.BadVersion, error);
    }

    [Fact]
    public void Announce_IsRead()
    {
        byte[] announce = new byte[24];
        announce[0] = 2;
        announce[1] = 0x80;
        BinaryPrimitives.WriteUInt32BigEndian(announce.AsSpan(8), 3);
        Assert.True(Pcp.TryParseResponse(announce, out PcpResponse? response, out _));
        Assert.Equal(new PcpResponse(2, PcpOpcode.Announce, PcpResult.Success, 0, 3, null), response);
    }

    [Theory]
    [InlineData(0, "TooShort")]
    [InlineData(3, "TooShort")]
    [InlineData(20, "TooShort")]
    [InlineData(26, "NotMultipleOfFour")]
    [InlineData(1101, "TooLong")]
    [InlineData(4000, "TooLong")]
    public void Lengths_AreChecked(int length, string expectedError)
    {
        PcpError expected = Enum.Parse<PcpError>(expectedError);
        byte[] datagram = new byte[length];
        if (length > 0)
        {
            datagram[0] = 2;
        }

        if (length > 1)
        {
            datagram[1] = 0x81;
        }

        Assert.False(Pcp.TryParseResponse(datagram, out PcpResponse? response, out PcpError error));
        Assert.Null(response);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void OneThousandOneHundredBytes_OfOptionalOptions_AreRead()
    {
        // 60 bytes of MAP, then 1,040 bytes of optional options (code 200), each 4 + 100 bytes: 10 of them.
        byte[] options = new byte[1040];
        for (int i = 0; i < 10; i++)
        {
            options[i * 104] = 200;
            BinaryPrimitives.WriteUInt16BigEndian(options.AsSpan((i * 104) + 2), 100);
        }

        Assert.True(Pcp.TryParseResponse(MapResponse(options: options), out _, out PcpError error), error.ToString());
    }

    [Fact]
    public void Request_IsNotAResponse()
    {
        byte[] request = new byte[Pcp.MapRequestLength];
        Pcp.WriteMapRequest(request, Nonce, Pcp.Tcp, 6881, 6881, null, 60, Client);
        Assert.False(Pcp.TryParseResponse(request, out _, out PcpError error));
        Assert.Equal(PcpError.NotAResponse, error);
    }

    [Theory]
    [InlineData(2)] // PEER: never sent
    [InlineData(99)]
    public void OpcodesWeNeverSend_AreRefused(byte opcode)
    {
        byte[] datagram = MapResponse();
        datagram[1] = (byte)(0x80 | opcode);
        Assert.False(Pcp.TryParseResponse(datagram, out _, out PcpError error));
        Assert.Equal(PcpError.BadOpcode, error);
    }

    [Fact]
    public void OptionalUnknownOption_IsSkipped()
    {
        byte[] option = [128, 0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0]; // 5 bytes of data padded to 8
        Assert.True(Pcp.TryParseMapResponse(MapResponse(options: option), Nonce, Pcp.Tcp, 6881, out _, out PcpError error), error.ToString());
    }

    [Fact]
    public void MandatoryUnknownOption_RefusesTheResponse()
    {
        byte[] option = [4, 0, 0, 0];
        Assert.False(Pcp.TryParseResponse(MapResponse(options: option), out _, out PcpError error));
        Assert.Equal(PcpError.UnknownMandatoryOption, error);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0 })] // PREFER_FAILURE, no data
    [InlineData(new byte[] { 1, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 77, 9 })] // THIRD_PARTY
    [InlineData(new byte[] { 3, 0, 0, 20, 0, 32, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4 })] // FILTER
    public void KnownOptions_WithTheirLengths_AreRead(byte[] option)
        => Assert.True(Pcp.TryParseResponse(MapResponse(options: option), out _, out _));

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 4, 0, 0, 0, 0 })] // PREFER_FAILURE with data
    [InlineData(new byte[] { 1, 0, 0, 4, 1, 2, 3, 4 })] // THIRD_PARTY too short
    [InlineData(new byte[] { 200, 0, 0, 8, 1, 2, 3, 4 })] // longer than what is left
    [InlineData(new byte[] { 200, 0, 0xff, 0xff })] // 65535 bytes claimed
    public void MalformedOptions_RefuseTheResponse(byte[] option)
    {
        Assert.False(Pcp.TryParseResponse(MapResponse(options: option), out _, out PcpError error));
        Assert.Equal(PcpError.MalformedOption, error);
    }

    [Theory]
    [InlineData(1000u, 1000u, 0, true)] // nothing elapsed
    [InlineData(1000u, 1060u, 60, true)] // both advanced a minute
    [InlineData(1000u, 999u, 0, true)] // a second back: reordering
    [InlineData(1000u, 998u, 0, false)] // two seconds back: obviously invalid
    [InlineData(1000u, 5u, 60, false)] // the server restarted
    [InlineData(1000u, 1002u, 0, true)] // within 2 s + 1/16
    [InlineData(1000u, 1003u, 0, false)] // the server's clock ran ahead of ours
    [InlineData(1000u, 1000u, 3, false)] // ours ran on, the server's did not: it lost time
    [InlineData(1000u, 4600u, 3600, true)] // an hour on both
    [InlineData(1000u, 4600u, 3800, true)] // 3600 vs 3800: within 2 + 3800/16
    [InlineData(1000u, 4600u, 4000, false)] // 3600 vs 4000: more than 2 + 4000/16
    public void Epoch_IsContinuousOnlyWhenBothClocksAgree(uint previous, uint current, int clientSeconds, bool continuous)
        => Assert.Equal(continuous, Pcp.EpochIsContinuous(previous, current, TimeSpan.FromSeconds(clientSeconds)));

    [Fact]
    public void Retransmission_StartsAtThreeSeconds_Doubles_AndStopsAtMrt()
    {
        TimeSpan first = Pcp.NextRetransmit(null, Pcp.InitialRetransmit, Pcp.MaxRetransmit, 0);
        Assert.Equal(TimeSpan.FromSeconds(3), first);
        Assert.Equal(TimeSpan.FromSeconds(6), Pcp.NextRetransmit(first, Pcp.InitialRetransmit, Pcp.MaxRetransmit, 0));
        Assert.Equal(TimeSpan.FromSeconds(3.3), Pcp.NextRetransmit(null, Pcp.InitialRetransmit, Pcp.MaxRetransmit, 0.1));
        Assert.Equal(TimeSpan.FromSeconds(2.7), Pcp.NextRetransmit(null, Pcp.InitialRetransmit, Pcp.MaxRetransmit, -0.5)); // clamped to -0.1
        Assert.Equal(TimeSpan.FromSeconds(1024), Pcp.NextRetransmit(TimeSpan.FromSeconds(768), Pcp.InitialRetransmit, Pcp.MaxRetransmit, 0));
    }
}
