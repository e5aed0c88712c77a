using NSec.Cryptography;
using PeerNet.Engine.Tests.Node;
using PeerNet.Libp2p;

namespace PeerNet.Engine.Tests.Libp2p;

/// <summary>The node key file: Unix modes are what it is about, so these run where there are Unix modes.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class NodeIdentityTests : IDisposable
{
    // The peer-ids spec's Ed25519 private key vector (PrivateKey{Ed25519, seed||public}) and its peer ID.
    private const string SpecPrivateKey = "080112407e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
    private const string SpecPeerId = "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq";

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "peernet-identity-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private string KeyPath => Path.Combine(_folder, NodeIdentity.FileName);

    private void WriteKey(byte[] bytes, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        Directory.CreateDirectory(_folder);
        File.WriteAllBytes(KeyPath, bytes);
        File.SetUnixFileMode(KeyPath, mode);
    }

    [Fact]
    public void The_first_start_creates_a_private_key_file_the_next_reads_back()
    {
        string peerId;
        using (NodeIdentity created = NodeIdentity.LoadOrCreate(_folder))
        {
            peerId = created.PeerId.ToString();
            Assert.Equal(KeyPath, created.KeyFile);
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(KeyPath));
        byte[] stored = File.ReadAllBytes(KeyPath);
        Assert.Equal(68, stored.Length);
        Assert.Equal("08011240", Convert.ToHexStringLower(stored[..4])); // PrivateKey{Type=Ed25519, Data=64 bytes}
        Assert.StartsWith("12D3KooW", peerId, StringComparison.Ordinal);
        Assert.Equal([NodeIdentity.FileName], Directory.GetFiles(_folder).Select(Path.GetFileName)); // no temporary file left

        using NodeIdentity loaded = NodeIdentity.LoadOrCreate(_folder);
        Assert.Equal(peerId, loaded.PeerId.ToString());
        Assert.Equal(stored[36..], loaded.PublicKey.ToArray());
    }

    [Fact]
    public void The_spec_private_key_loads_as_its_known_peer_id()
    {
        WriteKey(Convert.FromHexString(SpecPrivateKey));

        using NodeIdentity identity = NodeIdentity.LoadOrCreate(_folder);

        Assert.Equal(SpecPeerId, identity.PeerId.ToString());
        byte[] signature = identity.Sign("hello"u8);
        PublicKey publicKey = PublicKey.Import(SignatureAlgorithm.Ed25519, identity.PublicKey.Span, KeyBlobFormat.RawPublicKey);
        Assert.True(SignatureAlgorithm.Ed25519.Verify(publicKey, "hello"u8, signature));
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherWrite)]
    public void A_key_file_others_can_access_is_refused(UnixFileMode mode)
    {
        WriteKey(Convert.FromHexString(SpecPrivateKey), mode);

        var refused = Assert.Throws<UnauthorizedAccessException>(() => NodeIdentity.LoadOrCreate(_folder));
        Assert.Contains("chmod 600", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_damaged_or_foreign_key_file_is_refused_not_replaced()
    {
        byte[] damaged = Convert.FromHexString(SpecPrivateKey);
        damaged[^1] ^= 1; // the stored public half no longer matches the seed
        WriteKey(damaged);
        Assert.Contains("damaged", Assert.Throws<InvalidDataException>(() => NodeIdentity.LoadOrCreate(_folder)).Message, StringComparison.Ordinal);
        Assert.Equal(damaged, File.ReadAllBytes(KeyPath));

        WriteKey(Convert.FromHexString("0803122000"));
        Assert.Throws<InvalidDataException>(() => NodeIdentity.LoadOrCreate(_folder));
        WriteKey(new byte[32]);
        Assert.Throws<InvalidDataException>(() => NodeIdentity.LoadOrCreate(_folder));
    }

    [Fact]
    public async Task Racing_first_starts_agree_on_one_identity()
    {
        string[] ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            using NodeIdentity identity = NodeIdentity.LoadOrCreate(_folder);
            return identity.PeerId.ToString();
        })));

        Assert.Single(ids.Distinct());
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void Ephemeral_identities_are_new_each_time_and_kept_nowhere()
    {
        using NodeIdentity a = NodeIdentity.CreateEphemeral();
        using NodeIdentity b = NodeIdentity.CreateEphemeral();
        Assert.NotEqual(a.PeerId, b.PeerId);
        Assert.Null(a.KeyFile);
    }

    [Fact]
    public async Task The_node_has_the_identity_of_its_state_folder()
    {
        string expected;
        using (NodeIdentity identity = NodeIdentity.LoadOrCreate(_folder))
        {
            expected = identity.PeerId.ToString();
        }

        await using var harness = new NodeHarness();
        PeerNetNode node = await harness.StartNodeAsync(new PeerNetNodeOptions { StateDirectory = _folder });
        Assert.Equal(expected, node.Identity.PeerId.ToString());

        PeerNetNode stateless = await harness.StartNodeAsync();
        Assert.NotEqual(node.Identity.PeerId, stateless.Identity.PeerId);
    }

    [Fact]
    public async Task A_node_with_an_exposed_key_does_not_start()
    {
        WriteKey(Convert.FromHexString(SpecPrivateKey), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        await using var harness = new NodeHarness();
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => harness.StartNodeAsync(new PeerNetNodeOptions { StateDirectory = _folder }));
    }
}
