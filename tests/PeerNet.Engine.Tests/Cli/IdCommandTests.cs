using PeerNet.Libp2p;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary><c>peernet id</c>: the node's peer ID, made once and kept, and the multiaddrs it would be reached at.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class IdCommandTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "peernet-id-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    [Fact]
    public async Task Id_MakesTheKeyOnce_AndPrintsItsPeerIdAndMultiaddrs()
    {
        (int exit, string output, string error) = await RunAsync("id", "--state", _state);
        Assert.True(exit == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Libp2pPeerId id = Libp2pPeerId.Parse(lines[0]);
        Assert.StartsWith("12D3KooW", lines[0], StringComparison.Ordinal);

        // Every interface that is up; loopback at least.
        Multiaddr[] addresses = [.. lines.Skip(1).Select(Multiaddr.Parse)];
        Assert.Contains(addresses, a => a.ToString() == $"/ip4/127.0.0.1/tcp/6881/p2p/{id}");
        Assert.All(addresses, a => Assert.Equal(id, a.PeerId));

        string key = Path.Combine(_state, "node", NodeIdentity.FileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));

        (exit, output, _) = await RunAsync("id", "--state", _state, "--port", "4001");
        Assert.Equal(0, exit);
        Assert.StartsWith(id + "\n", output.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains($"/ip4/127.0.0.1/tcp/4001/p2p/{id}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Id_RefusesAKeyOthersCanRead()
    {
        Assert.Equal(0, (await RunAsync("id", "--state", _state)).Exit);
        string key = Path.Combine(_state, "node", NodeIdentity.FileName);
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);

        (int exit, string output, string error) = await RunAsync("id", "--state", _state);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("chmod 600", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Id_RefusesAPortOutOfRange()
    {
        (int exit, _, string error) = await RunAsync("id", "--state", _state, "--port", "70000");
        Assert.Equal(1, exit);
        Assert.Contains("not a TCP port", error, StringComparison.Ordinal);
    }
}
