using System.Net;
using PeerNet.Cli.Commands;
using PeerNet.Discovery.Dht;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary><c>peernet dht</c>, <c>dht put</c> and <c>dht get</c> against a small DHT of nodes on 127.0.0.1 (real UDP).</summary>
public sealed class DhtCommandTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Dht_Put_Get_RoundTripThroughALoopbackDht()
    {
        await using LoopbackDht dht = await LoopbackDht.StartAsync(4);
        List<DhtNode> nodes = dht.Nodes;
        string join = nodes[0].LocalEndPoint.ToString();
        (int exit, string output, string error) = await RunAsync("dht", "--bind", "127.0.0.1", "--bootstrap", join, "--duration", "1");
        Assert.True(exit == 0, error);
        Assert.Contains("DHT node ", output, StringComparison.Ordinal);
        Assert.Matches(@"nodes [1-9]\d* \(good", output);

        (exit, output, error) = await RunAsync("dht", "put", "hello from the CLI", "--bind", "127.0.0.1", "--bootstrap", join);
        Assert.True(exit == 0, output + error);
        string target = output.Split(' ')[0];
        Assert.Equal(40, target.Length);

        (exit, output, error) = await RunAsync("dht", "get", target, "--bind", "127.0.0.1", "--bootstrap", nodes[3].LocalEndPoint.ToString());
        Assert.True(exit == 0, output + error);
        Assert.Equal("hello from the CLI", output.Trim()); // the bencoded string's text, not its bencoding

        (exit, _, error) = await RunAsync("dht", "get", "not-a-target", "--bind", "127.0.0.1", "--bootstrap", join);
        Assert.NotEqual(0, exit);
        Assert.Contains("40 hex digits", error, StringComparison.Ordinal);

        // Mutable items: the key is created on first use (owner-only), seq counts up from the current item's.
        using var temp = new PeerNet.Engine.Tests.Storage.TempDirectory();
        string keyFile = temp.Combine("keys", "item.key");
        (exit, output, error) = await RunAsync("dht", "put", "first", "--mutable", "--key-file", keyFile, "--salt", "notes", "--bind", "127.0.0.1", "--bootstrap", join);
        Assert.True(exit == 0, output + error);
        Assert.Matches(@"^[0-9a-f]{40} stored on (1 node|[2-9]\d* nodes); key [0-9a-f]{64} seq 1\s*$", output);
        string key = output.Split(' ')[^3];
        Assert.Equal(32, new FileInfo(keyFile).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }

        (exit, output, error) = await RunAsync("dht", "put", "second", "--mutable", "--key-file", keyFile, "--salt", "notes", "--bind", "127.0.0.1", "--bootstrap", join);
        Assert.True(exit == 0, output + error);
        Assert.EndsWith($"key {key} seq 2", output.Trim(), StringComparison.Ordinal);

        (exit, output, error) = await RunAsync("dht", "get", "--key", key, "--salt", "notes", "--bind", "127.0.0.1", "--bootstrap", nodes[3].LocalEndPoint.ToString());
        Assert.True(exit == 0, output + error);
        Assert.Equal("second", output.Trim());
        Assert.Contains("seq 2", error, StringComparison.Ordinal);

        // Another salt is another item; a malformed key file is a clear error, never overwritten.
        (exit, output, _) = await RunAsync("dht", "get", "--key", key, "--salt", "other", "--bind", "127.0.0.1", "--bootstrap", join);
        Assert.Equal(1, exit);
        Assert.Equal("not found", output.Trim());
        await File.WriteAllBytesAsync(keyFile, new byte[31], Ct);
        (exit, _, error) = await RunAsync("dht", "put", "third", "--mutable", "--key-file", keyFile, "--bind", "127.0.0.1", "--bootstrap", join);
        Assert.NotEqual(0, exit);
        Assert.Contains("not a 32-byte Ed25519 key seed", error, StringComparison.Ordinal);
        Assert.Equal(31, new FileInfo(keyFile).Length);
    }

    [Fact]
    public async Task DhtGet_ValueWithEscapes_PrintsThemReplaced()
    {
        await using LoopbackDht dht = await LoopbackDht.StartAsync(3);
        List<DhtNode> nodes = dht.Nodes;
        string join = nodes[0].LocalEndPoint.ToString();
        string text = "x" + TerminalText.ClearScreen + TerminalText.SetTitle + TerminalText.C1Red + TerminalText.RightToLeftOverride;
        (int exit, string output, string error) = await RunAsync("dht", "put", text, "--bind", "127.0.0.1", "--bootstrap", join);
        Assert.True(exit == 0, output + error);
        string target = output.Split(' ')[0];

        (exit, output, error) = await RunAsync("dht", "get", target, "--bind", "127.0.0.1", "--bootstrap", nodes[2].LocalEndPoint.ToString());

        Assert.True(exit == 0, output + error);
        TerminalText.AssertClean(output, "stdout");
        Assert.Equal(TerminalText.Replaced(text), output.Trim());
    }

    [Theory]
    [InlineData("5:hello", "hello")]                 // a string: its text
    [InlineData("6:h\u00e9llo", "h\u00e9llo")]      // UTF-8 past ASCII: 6 bytes, 5 characters
    [InlineData("i42e", "i42e")]                     // not a string: its bencoding
    [InlineData("3:abcd", "3:abcd")]                 // a length that does not match is not one string
    public void ShowValue_BencodedString_ShowsItsText(string bencoded, string shown)
        => Assert.Equal(shown, DhtCommand.ShowValue(System.Text.Encoding.UTF8.GetBytes(bencoded)));

    [Fact]
    public void ShowValue_NotUtf8_ShowsHex() => Assert.Equal("ff00fe", DhtCommand.ShowValue([(byte)'3', (byte)':', 0xff, 0x00, 0xfe]));

    [Fact]
    public async Task DhtGet_BinaryValue_PrintsHex()
    {
        await using LoopbackDht dht = await LoopbackDht.StartAsync(3);
        byte[] value = [(byte)'4', (byte)':', 0xde, 0xad, 0xbe, 0xef];
        DhtPutResult stored = await dht.Nodes[0].PutImmutableAsync(value, Ct);
        Assert.True(stored.AcceptedBy > 0);

        (int exit, string output, string error) = await RunAsync("dht", "get", stored.Target.ToString(), "--bind", "127.0.0.1", "--bootstrap", dht.Nodes[2].LocalEndPoint.ToString());

        Assert.True(exit == 0, output + error);
        Assert.Equal("deadbeef", output.Trim());
    }

    /// <summary>Nodes on 127.0.0.1, each joining through the ones before it; disposing stops them all.</summary>
    private sealed class LoopbackDht : IAsyncDisposable
    {
        public List<DhtNode> Nodes { get; } = [];

        public static async Task<LoopbackDht> StartAsync(int count)
        {
            var dht = new LoopbackDht();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    var node = new DhtNode(new DhtNodeOptions
                    {
                        BindEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                        BootstrapNodes = [.. dht.Nodes.Select(n => n.LocalEndPoint.ToString())],
                        RestrictRoutingAddresses = false,
                    });
                    dht.Nodes.Add(node);
                    await node.StartAsync(Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
                }

                return dht;
            }
            catch
            {
                await dht.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (DhtNode node in Nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
