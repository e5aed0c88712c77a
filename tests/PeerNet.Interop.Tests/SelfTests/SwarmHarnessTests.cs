using System.Net;
using System.Net.Sockets;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests.SelfTests;

/// <summary>The swarm helpers themselves: process lifetime, line reading, port probing and peernet's output parsing.</summary>
public sealed class SwarmHarnessTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    [Fact(Timeout = 60_000)]
    public async Task BackgroundProcess_Dispose_KillsChildAndGrandchild()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        int shell, grandchild;
        await using (var process = BackgroundProcess.Start("sh", "/bin/sh", ["-c", "sleep 300 & echo $!; wait"]))
        {
            shell = process.Id;
            grandchild = int.Parse(await process.WaitForLineAsync(l => l.Length > 0, Wait, ct));
            Assert.False(ProcessTree.IsGone(grandchild));
            Assert.Contains(grandchild, ProcessTree.Snapshot(shell));
        }

        Assert.True(ProcessTree.IsGone(shell), "the shell survived dispose");
        Assert.True(ProcessTree.IsGone(grandchild), "the grandchild (sleep) survived dispose");
    }

    [Fact(Timeout = 60_000)]
    public async Task BackgroundProcess_CarriageReturns_EndLines()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var process = BackgroundProcess.Start("printf", "/bin/sh", ["-c", "printf 'a\\rb\\rc\\n'"]);

        Assert.Equal(0, await process.WaitForExitAsync(Wait, ct));
        Assert.Equal(["a", "b", "c"], process.Lines);
    }

    [Fact(Timeout = 60_000)]
    public async Task BackgroundProcess_EndsWithoutExpectedLine_ThrowsWithOutput()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var process = BackgroundProcess.Start("sh", "/bin/sh", ["-c", "echo one; echo oops >&2; exit 3"]);

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitForLineAsync(l => l == "two", Wait, ct));

        Assert.Contains("one", e.Message, StringComparison.Ordinal);
        Assert.Contains("oops", e.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task BackgroundProcess_StderrLines_AreAwaitedWholeAndApartFromStdout()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        // Written in pieces with a pause inside a line: only whole lines count, and a stdout line is not a stderr line.
        await using var process = BackgroundProcess.Start("sh", "/bin/sh", ["-c", "echo out; printf 'hal' >&2; sleep 0.3; printf 'f\\nsecond\\n' >&2; sleep 300"]);

        Assert.Equal("half", await process.WaitForErrorLineAsync(l => l.StartsWith("hal", StringComparison.Ordinal), Wait, ct));
        Assert.Equal("second", await process.WaitForErrorLineAsync(l => l == "second", Wait, ct));
        await Assert.ThrowsAsync<TimeoutException>(() => process.WaitForErrorLineAsync(l => l == "out", TimeSpan.FromMilliseconds(500), ct));
    }

    [Fact(Timeout = 60_000)]
    public async Task BackgroundProcess_NoExpectedLineInTime_ThrowsTimeout()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var process = BackgroundProcess.Start("sh", "/bin/sh", ["-c", "echo one; sleep 300"]);

        await Assert.ThrowsAsync<TimeoutException>(() => process.WaitForLineAsync(l => l == "two", TimeSpan.FromMilliseconds(500), ct));
    }

    [Fact(Timeout = 180_000)]
    public async Task PythonHelper_Segfaults_DescribedWithPythonAndNativeStacks()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        string crash = $"import sys; sys.path.insert(0, {PythonLiteral(PythonScripts.Directory)}); import lt_common, ctypes; print('loaded', flush=True); ctypes.string_at(0)";
        await using var process = BackgroundProcess.Start(
            "crasher", ReferenceTools.SystemPython, ["-c", crash], exitsWhenStdinCloses: true, crashDumps: new CrashDumps(ReferenceTools.SystemPython));

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => process.WaitForLineAsync(l => l == "never", Wait, ct));

        Assert.Contains("killed by signal 11", e.Message, StringComparison.Ordinal);
        Assert.Contains("Fatal Python error: Segmentation fault", e.Message, StringComparison.Ordinal); // faulthandler, from lt_common
        Assert.Contains("--- native backtrace ---", e.Message, StringComparison.Ordinal);
        if (File.ReadAllText("/proc/sys/kernel/core_pattern").Trim() == "core")
        {
            // gdb read the core: a frame of the crashing thread names the C function that faulted or its caller.
            Assert.Matches(@"#\d+ +0x[0-9a-f]+ in ", e.Message);
        }
        else
        {
            Assert.Contains("no core file", e.Message, StringComparison.Ordinal);
        }
    }

    private static string PythonLiteral(string text) => "'" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";

    [Fact(Timeout = 120_000)]
    public async Task LtSeed_StdinCloses_ExitsOnItsOwn()
    {
        ReferenceTools.Require(ReferenceTool.Libtorrent);
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("lt-stdin");
        SwarmTorrent torrent = await SwarmContent.CreateAsync(temp, TorrentVersion.V1, 100_000, ct);
        (LibtorrentProcess seeder, LtSeedReady ready) = await LibtorrentProcess.StartSeedAsync(torrent.TorrentPath, torrent.SourceParent, ct);
        await using (seeder)
        {
            Assert.Equal(torrent.PieceCount, ready.PiecesHave);
            Assert.True(LoopbackPorts.IsListening(ready.Port));

            seeder.Process.CloseInput();

            Assert.Equal(0, await seeder.Process.WaitForExitAsync(Wait, ct));
            Assert.Contains("stdin closed", seeder.Process.Lines[^1], StringComparison.Ordinal);
        }
    }

    [Fact]
    public void LoopbackPorts_IsListening_SeesOurListenerOnly()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        Assert.False(LoopbackPorts.IsListening(port));

        listener.Listen();

        Assert.True(LoopbackPorts.IsListening(port));
    }

    [Fact(Timeout = 60_000)]
    public async Task PeerNetAssembly_BesideTests_RunsUnderTheDotnetHost()
    {
        Assert.True(File.Exists(PeerNetProcess.AssemblyPath), $"{PeerNetProcess.AssemblyPath} is missing");

        ProcessResult result = await ProcessRunner.RunAsync(PeerNetProcess.DotnetHost(), [PeerNetProcess.AssemblyPath, "--help"], TimeSpan.FromSeconds(45), cancellationToken: TestContext.Current.CancellationToken);

        Assert.Contains("peernet", result.StandardOutput, StringComparison.Ordinal);
    }

    // Lines as peernet's TransferView and GetCommand print them.

    [Fact]
    public void ParseStatus_DownloadingLine_ReadsCounters()
    {
        PeerNetStatus? status = PeerNetProcess.ParseStatus("downloading 51.2% (131/256 pieces verified)  down 1.5 MiB/s  up 0 B/s  peers 3  received 4.1 MiB  sent 512 KiB");

        Assert.Equal(new PeerNetStatus("downloading", 51.2, 131, 256, 4299162, 524288), status);
    }

    [Fact]
    public void ParseStatus_SeedingLine_ReadsCounters()
    {
        PeerNetStatus? status = PeerNetProcess.ParseStatus("seeding 100.0% (240/240 pieces verified)  down 0 B/s  up 12.3 MiB/s  peers 2  received 0 B  sent 123.4 MiB");

        Assert.Equal(new PeerNetStatus("seeding", 100, 240, 240, 0, 129394278), status);
    }

    [Theory]
    [InlineData("listening on port 4242")]
    [InlineData("complete: 8 MiB verified in 3.1 s; received 8 MiB, sent 0 B, saved to /tmp/x")]
    [InlineData("swarm: 0/128 pieces already verified on disk")]
    public void ParseStatus_OtherLines_Null(string line) => Assert.Null(PeerNetProcess.ParseStatus(line));

    [Fact]
    public void ParseCompletion_CompleteLine_ReadsCountersAndFolder()
    {
        PeerNetCompletion? done = PeerNetProcess.ParseCompletion("complete: 8 MiB verified in 3.1 s; received 7.98 MiB, sent 1.25 MiB, saved to /tmp/a b");

        Assert.Equal(new PeerNetCompletion(8367636, 1310720, "/tmp/a b"), done);
    }

    [Fact]
    public void ParseResumeLine_AlreadyVerifiedLine_ReadsCounts()
        => Assert.Equal(new PeerNetResumeLine(120, 256), PeerNetProcess.ParseResumeLine("swarm: 120/256 pieces already verified on disk"));

    [Theory]
    [InlineData("0 B", 0)]
    [InlineData("10 B", 10)]
    [InlineData("256 KiB", 262144)]
    [InlineData("1.5 MiB", 1572864)]
    [InlineData("2 GiB", 2147483648)]
    [InlineData("12.3 MB", 12897485)]
    public void ParseSize_PrintedSizes_Bytes(string text, long bytes) => Assert.Equal(bytes, PeerNetProcess.ParseSize(text));
}
