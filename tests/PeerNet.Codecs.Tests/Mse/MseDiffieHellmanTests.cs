using PeerNet.Mse;

namespace PeerNet.Codecs.Tests.Mse;

public sealed class MseDiffieHellmanTests
{
    // Known answers computed independently with Python's pow(2, x, P) and hashlib.
    private const string PrivateA = "0102030405060708090a0b0c0d0e0f1011121314";
    private const string PrivateB = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4";

    private const string PublicA = "96e112dab29e8c5272accb9b17b26887ce54a144a4e3b697c7d159b7a817e556b0918db2b4c658e02a87f7e5fb14b18a"
        + "553e084cbf3dad2d30f16596ccb982d406258c61b30c5c1dae2ddc60bdbd48d79896312aad63238c39e1a633821eb693";

    private const string Secret = "647917bf1d8fa2dd2287ca80f6f3c81d3b2b46731e2cd43a15c49e6c912c1dd3daf8a43b3b12057c27bb91ebdf21d771"
        + "d001ea17e04705a62d6732246dbd9cf7e0f79cb490e75962697d487eec5ca71bfa112a3323445eb2e25a7f472854e83d";

    [Fact]
    public void Public_key_and_shared_secret_match_known_answers()
    {
        var a = new MseDiffieHellman(Convert.FromHexString(PrivateA));
        var b = new MseDiffieHellman(Convert.FromHexString(PrivateB));
        Assert.Equal(PublicA, Convert.ToHexStringLower(a.PublicKey));

        byte[] fromA = new byte[96];
        byte[] fromB = new byte[96];
        Assert.True(a.TryComputeSecret(b.PublicKey, fromA));
        Assert.True(b.TryComputeSecret(a.PublicKey, fromB));
        Assert.Equal(Secret, Convert.ToHexStringLower(fromA));
        Assert.Equal(fromA, fromB);
    }

    [Fact]
    public void Key_derivation_matches_a_known_answer()
    {
        byte[] skey = [.. Enumerable.Range(0, 20).Select(i => (byte)i)];
        Sha1Hash keyA = MseConstants.KeyA(Convert.FromHexString(Secret), skey);
        Assert.Equal("8e56de179409928ca30eebe429465906b235b9ed", keyA.ToString());

        // ENCRYPT(VC) under that key, from an independent RC4: what the other side syncs on.
        byte[] vc = new byte[8];
        MseConstants.Cipher(keyA).Transform(vc);
        Assert.Equal("de7ac4f5e5780e22", Convert.ToHexStringLower(vc));
    }

    [Fact]
    public void A_public_key_is_96_bytes_with_leading_zeros_kept()
    {
        // Private key 1: Y = 2, written as 95 zeros then 2.
        var one = new MseDiffieHellman([1]);
        Assert.Equal(96, one.PublicKey.Length);
        Assert.Equal(2, one.PublicKey[95]);
        Assert.All(one.PublicKey[..95], b => Assert.Equal(0, b));
        Assert.Equal(96, new MseDiffieHellman().PublicKey.Length);
    }

    [Theory]
    [InlineData("00")]
    [InlineData("01")]
    [InlineData("P-1")]
    [InlineData("P")]
    [InlineData("FF")]
    public void Degenerate_remote_keys_are_refused(string which)
    {
        System.Numerics.BigInteger value = which switch
        {
            "P-1" => MseDiffieHellman.Prime - 1,
            "P" => MseDiffieHellman.Prime,
            "FF" => System.Numerics.BigInteger.Pow(2, 768) - 1,
            _ => System.Numerics.BigInteger.Parse(which, System.Globalization.CultureInfo.InvariantCulture),
        };
        byte[] key = new byte[96];
        byte[] raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        raw.CopyTo(key, 96 - raw.Length);
        Assert.False(new MseDiffieHellman().TryComputeSecret(key, new byte[96]));
        Assert.False(new MseDiffieHellman().TryComputeSecret(new byte[95], new byte[96]));
    }
}
