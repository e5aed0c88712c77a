using PeerNet.Mse;

namespace PeerNet.Codecs.Tests.Mse;

public sealed class Rc4Tests
{
    [Theory]
    [InlineData("Key", "Plaintext", "bbf316e8d940af0ad3")]
    [InlineData("Wiki", "pedia", "1021bf0420")]
    [InlineData("Secret", "Attack at dawn", "45a01f645fc35b383552544b9bf5")]
    public void Encrypts_the_published_vectors(string key, string plaintext, string expected)
    {
        byte[] data = System.Text.Encoding.ASCII.GetBytes(plaintext);
        new Rc4(System.Text.Encoding.ASCII.GetBytes(key)).Transform(data);
        Assert.Equal(expected, Convert.ToHexStringLower(data));
    }

    [Fact]
    public void Discarding_1024_bytes_gives_RFC_6229s_keystream_at_offset_1024()
    {
        byte[] keystream = new byte[16];
        new Rc4([1, 2, 3, 4, 5], discard: 1024).Transform(keystream);
        Assert.Equal("30abbcc7c20b01609f23ee2d5f6bb7df", Convert.ToHexStringLower(keystream));
    }

    [Fact]
    public void Split_calls_continue_one_keystream_and_decrypt_what_was_encrypted()
    {
        byte[] plain = new byte[10_000];
        Random.Shared.NextBytes(plain);
        byte[] whole = (byte[])plain.Clone();
        new Rc4("k"u8, 1024).Transform(whole);

        byte[] pieces = (byte[])plain.Clone();
        var split = new Rc4("k"u8, 1024);
        split.Transform(pieces.AsSpan(0, 1));
        split.Transform(pieces.AsSpan(1, 4096));
        split.Transform(pieces.AsSpan(4097));
        Assert.Equal(whole, pieces);

        byte[] copy = new byte[whole.Length];
        new Rc4("k"u8, 1024).Transform(whole, copy);
        Assert.Equal(plain, copy);
    }

    [Fact]
    public void Rejects_empty_keys_and_short_destinations()
    {
        Assert.Throws<ArgumentException>(() => new Rc4([]));
        Assert.Throws<ArgumentException>(() => new Rc4("k"u8).Transform(new byte[2], new byte[1]));
    }
}
