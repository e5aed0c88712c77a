using PeerNet.Libp2p;

namespace PeerNet.Codecs.Tests.Libp2p;

public sealed class Libp2pPeerIdTests
{
    // The peer-ids spec's Ed25519 test vector: the protobuf PublicKey, and the 32-byte key in it.
    private const string SpecPublicKeyMessage = "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private const string SpecKey = "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";

    // That key's peer ID, as go-libp2p and others compute it (checked here against an independent base58 in Python).
    private const string SpecPeerId = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

    [Fact]
    public void The_spec_key_gives_the_known_peer_id()
    {
        Libp2pPeerId id = Libp2pPeerId.FromEd25519PublicKey(Convert.FromHexString(SpecKey));

        Assert.Equal(SpecPeerId, id.ToString());
        Assert.Equal("0024" + SpecPublicKeyMessage, Convert.ToHexStringLower(id.Multihash.Span));
        Assert.Equal(id, Libp2pPeerId.FromPublicKey(Convert.FromHexString(SpecPublicKeyMessage)));
        Assert.Equal(SpecKey, Convert.ToHexStringLower(id.Ed25519PublicKey!));
    }

    [Fact]
    public void Text_round_trips_and_compares_by_value()
    {
        Libp2pPeerId id = Libp2pPeerId.Parse(SpecPeerId);

        Assert.Equal(SpecPeerId, id.ToString());
        Assert.Equal(Libp2pPeerId.FromEd25519PublicKey(Convert.FromHexString(SpecKey)), id);
        Assert.Equal(Libp2pPeerId.FromEd25519PublicKey(Convert.FromHexString(SpecKey)).GetHashCode(), id.GetHashCode());
        Assert.NotEqual(Libp2pPeerId.Parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"), id);
    }

    [Fact]
    public void The_spec_examples_parse_inlined_and_hashed()
    {
        Libp2pPeerId inlined = Libp2pPeerId.Parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
        Libp2pPeerId hashed = Libp2pPeerId.Parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");

        Assert.Equal(32, inlined.Ed25519PublicKey!.Length);
        Assert.Null(hashed.Ed25519PublicKey);
        Assert.Equal(34, hashed.Multihash.Length);
        Assert.Equal(0x12, hashed.Multihash.Span[0]);
        Assert.Equal("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", hashed.ToString());
    }

    [Fact]
    public void The_CID_form_parses_to_the_same_peer()
    {
        // CIDv1, libp2p-key codec, base32 multibase, of the spec key's peer ID.
        Libp2pPeerId id = Libp2pPeerId.Parse("bafzaajaiaejcahwr5d5ofrfbis4l5d6uwr57hu5tjodrypfm6yaq6dsc2r2pzyt6");

        Assert.Equal(SpecPeerId, id.ToString());
    }

    [Fact]
    public void A_key_over_42_bytes_is_hashed()
    {
        // A protobuf PublicKey of type RSA with 60 bytes of data: 64 serialized bytes, so SHA-256.
        byte[] message = [0x08, 0x00, 0x12, 60, .. new byte[60]];
        Libp2pPeerId id = Libp2pPeerId.FromPublicKey(message);

        Assert.Equal(0x12, id.Multihash.Span[0]);
        Assert.Equal(System.Security.Cryptography.SHA256.HashData(message), id.Multihash.Span[2..].ToArray());
        Assert.StartsWith("Qm", id.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("12D3KooW0", "base58btc character")] // '0' is not in the alphabet
    [InlineData("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3p", "digest")] // one character short
    [InlineData("12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pqq", "digest")] // one too many
    [InlineData("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5", "digest")]
    [InlineData("xyz", "starts with")]
    [InlineData("bafzBAD", "base32")]
    [InlineData("zQmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", "CID")]
    public void Malformed_text_is_refused_with_a_reason(string text, string reason)
    {
        Assert.False(Libp2pPeerId.TryParse(text, out Libp2pPeerId? id, out string? error));
        Assert.Null(id);
        Assert.Contains(reason, error, StringComparison.Ordinal);
        FormatException thrown = Assert.Throws<FormatException>(() => Libp2pPeerId.Parse(text));
        Assert.Contains(reason, thrown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1220", "digest")] // sha2-256 with no digest
    [InlineData("1102aabb", "neither identity")] // sha1 is not a peer ID hash
    [InlineData("0002aabb", "inlined key")] // identity, but not a PublicKey message
    [InlineData("00", "digest length")]
    [InlineData("8000", "hash code")] // a non-minimal varint
    [InlineData("002c080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e0000000000000000", "at most 42")]
    public void Malformed_multihashes_are_refused(string hex, string reason)
    {
        Assert.False(Libp2pPeerId.TryFromMultihash(Convert.FromHexString(hex), out _, out string? error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_of_the_wrong_size_are_refused()
    {
        Assert.Throws<ArgumentException>(() => Libp2pPeerId.FromEd25519PublicKey(new byte[31]));
        Assert.Throws<ArgumentException>(() => Libp2pPeerId.FromPublicKey([0x08, 0x01, 0x12, 0x02, 0xaa, 0xbb]));
    }

    [Fact]
    public void Base58_keeps_leading_zero_bytes()
    {
        byte[] data = [0, 0, 1, 2, 255];
        string text = Base58.Encode(data);

        Assert.StartsWith("11", text, StringComparison.Ordinal);
        Assert.Equal(data, Base58.TryDecode(text, out _));
        Assert.Equal("", Base58.Encode([]));
    }
}
