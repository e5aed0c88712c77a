using System.Net;
using System.Net.Sockets;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary>
/// Mistakes a newcomer makes, each answered with one line that says what to do, never a stack trace; <c>get</c> finds
/// them before it opens a socket (nothing says "listening on port").
/// </summary>
public sealed class CliErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peernet-cli-errors-").FullName;

    public void Dispose()
    {
        foreach (string path in Directory.EnumerateFileSystemEntries(_dir, "*", SearchOption.AllDirectories))
        {
            SetMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        Directory.Delete(_dir, recursive: true);
    }

    private async Task<string> TorrentAsync()
    {
        string content = Path.Combine(_dir, "data.bin");
        await File.WriteAllBytesAsync(content, new byte[20_000], TestContext.Current.CancellationToken);
        string torrent = Path.Combine(_dir, "data.torrent");
        Assert.Equal(0, (await RunAsync("create", content, "--v1", "-o", torrent)).Exit);
        return torrent;
    }

    private static string[] Offline(params string[] args) => [.. args, "--no-dht", "--no-lsd", "--no-trackers"];

    private static void AssertOneLine(int exit, string output, string error, int expectedExit = 1)
    {
        Assert.Equal(expectedExit, exit);
        Assert.DoesNotContain("listening on port", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_PortInUse_NamesThePortAndSuggestsPortOption()
    {
        using var taken = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        taken.Bind(new IPEndPoint(IPAddress.IPv6Any, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        (int exit, string output, string error) = await RunAsync(Offline("get", await TorrentAsync(), "-o", Path.Combine(_dir, "out"), "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        Assert.Equal(1, exit);
        Assert.Contains($"port {port} is in use", error, StringComparison.Ordinal);
        Assert.Contains("--port", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("-1")]
    public async Task Get_PortOutOfRange_IsAUsageErrorNamingIt(string port)
    {
        (int exit, string output, string error) = await RunAsync(Offline("get", await TorrentAsync(), "-o", Path.Combine(_dir, "out"), "--port", port));

        AssertOneLine(exit, output, error, expectedExit: 2);
        Assert.Contains($"--port {port} is not a port: give 1 to 65535", error, StringComparison.Ordinal);
        Assert.DoesNotContain("ListenPort", error, StringComparison.Ordinal); // the library's name for it means nothing at a shell
    }

    [Fact]
    public async Task Get_UnknownPortMappingProtocol_IsAUsageErrorNamingIt()
    {
        (int exit, string output, string error) = await RunAsync(Offline("get", await TorrentAsync(), "-o", Path.Combine(_dir, "out"), "--port-mapping", "pcp,igd"));

        AssertOneLine(exit, output, error, expectedExit: 2);
        Assert.Contains("'igd' is not a port mapping protocol: give a comma-separated list of pcp, natpmp and upnp, or none.", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dht_PortOutOfRange_IsAUsageError()
    {
        (int exit, string output, string error) = await RunAsync("dht", "--port", "65536", "--duration", "1");
        AssertOneLine(exit, output, error, expectedExit: 2);
        Assert.Contains("--port 65536 is not a port", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_MissingTorrent_SaysItDoesNotExist()
    {
        string missing = Path.Combine(_dir, "missing.torrent");
        (int exit, string output, string error) = await RunAsync(Offline("get", missing, "-o", Path.Combine(_dir, "out")));
        AssertOneLine(exit, output, error);
        Assert.Contains($"'{missing}' does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_FolderAsTorrent_SaysItIsAFolder()
    {
        (int exit, string output, string error) = await RunAsync(Offline("get", _dir, "-o", Path.Combine(_dir, "out")));
        AssertOneLine(exit, output, error);
        Assert.Contains($"'{_dir}' is a folder, not a .torrent file", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnreadableTorrent_SaysPermissionDenied()
    {
        string torrent = await TorrentAsync();
        SetMode(torrent, UnixFileMode.None);
        SkipIfPermissionsDoNotApply(() => File.ReadAllBytes(torrent));

        (int exit, string output, string error) = await RunAsync(Offline("get", torrent, "-o", Path.Combine(_dir, "out")));

        AssertOneLine(exit, output, error);
        Assert.Contains("cannot be read: permission denied", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_OutputIsAFile_FailsBeforeListening()
    {
        string file = Path.Combine(_dir, "not-a-folder");
        await File.WriteAllTextAsync(file, "x", TestContext.Current.CancellationToken);

        (int exit, string output, string error) = await RunAsync(Offline("get", await TorrentAsync(), "-o", file));

        AssertOneLine(exit, output, error);
        Assert.Contains($"'{file}' is a file, not a folder", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_OutputNotWritable_FailsBeforeListening()
    {
        string torrent = await TorrentAsync();
        string locked = Path.Combine(_dir, "locked");
        Directory.CreateDirectory(locked);
        SetMode(locked, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        SkipIfPermissionsDoNotApply(() => File.Delete(File.Create(Path.Combine(locked, "probe")).Name));

        (int exit, string output, string error) = await RunAsync(Offline("get", torrent, "-o", locked));

        AssertOneLine(exit, output, error);
        Assert.Contains($"no permission to write in '{locked}'", error, StringComparison.Ordinal);
        Assert.Contains("-o DIR", error, StringComparison.Ordinal);
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Root (as in many containers) reads and writes whatever the mode bits say: nothing to test then.</summary>
    private static void SkipIfPermissionsDoNotApply(Action access)
    {
        try
        {
            access();
        }
        catch (UnauthorizedAccessException)
        {
            return;
        }

        Assert.Skip("permission bits do not apply to this user (root)");
    }
}
