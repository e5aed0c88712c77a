using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using PeerNet.Creation;
using PeerNet.Metainfo;

namespace PeerNet.Interop.Tests;

/// <summary>
/// BEP 55 holepunching through real NATs: peer A (<c>peernet seed</c>) and peer B (<c>peernet get</c>) each in a home
/// network behind its own nftables-masquerade router (<see cref="TwoHomes"/>, no port mapping: unsolicited packets to a
/// router are dropped), and a relay (<c>peernet get</c> of the same torrent, its transfers throttled to 1 KiB/s so it
/// cannot serve the content itself) on the "internet" between them. A and B are given only the relay; PEX tells each of
/// the other; B's direct dial to A's NAT address fails, B asks the relay for a rendezvous, both dial over uTP at once
/// and B completes byte-identical from A. The control run, with holepunching off everywhere, must not complete: the test
/// can fail. A dials over TCP only (<c>--utp accept</c>): otherwise A's and B's direct uTP dials, crossing within a
/// second of each other, could open both port-preserving NATs by themselves (a holepunch by chance) and the control
/// would prove nothing.
/// </summary>
public sealed partial class HolepunchInteropTests
{
    private const long ContentSize = 4L * 1024 * 1024;
    private static readonly TimeSpan ControlWindow = TimeSpan.FromSeconds(60);

    [Fact(Timeout = 240_000)]
    public async Task TwoPeersBehindTwoNats_MeetThroughARelay_OverUtp_AndComplete()
    {
        ReferenceTools.Require(ReferenceTool.RoutedNamespaces);
        CancellationToken ct = TestContext.Current.CancellationToken;
        var clock = Stopwatch.StartNew();
        using var temp = new TempDirectory("holepunch");
        Content torrent = await Content.CreateAsync(temp, ct);
        await using TwoHomes net = await TwoHomes.StartAsync(ct);
        await using Trio trio = await Trio.StartAsync(net, torrent, temp, holepunch: true, ct);

        // Direct TCP to A's NAT address goes nowhere: the router drops it.
        Assert.False(await net.TcpReachesAsync(trio.A.ListenPort, ct), $"a TCP connect from home B reached {TwoHomes.WanA}:{trio.A.ListenPort}: the NAT is open");

        await trio.B.WaitForCompletionAsync(TimeSpan.FromSeconds(180), seeding: false, ct);
        SwarmTest.Log(clock, "B completed");
        byte[] original = await File.ReadAllBytesAsync(torrent.ContentPath, ct);
        byte[] copy = await File.ReadAllBytesAsync(Path.Combine(trio.Target, "content.bin"), ct);
        Assert.True(original.SequenceEqual(copy), "B's copy differs from A's");

        string relay = trio.Relay.Process.StandardError, a = trio.A.Process.StandardError, b = trio.B.Process.StandardError;
        string story = trio.Describe();
        Assert.True(relay.Contains("holepunch: relayed a rendezvous", StringComparison.Ordinal), "the relay relayed no rendezvous:\n" + story);
        Assert.True(b.Contains("holepunch: asked ", StringComparison.Ordinal) || a.Contains("holepunch: asked ", StringComparison.Ordinal), "no peer asked for a rendezvous:\n" + story);
        Assert.True(HolepunchConnected().IsMatch(a + b), "no holepunch dial connected over uTP:\n" + story);

        // B's connection to A is to A's NAT address (only uTP can have come through it: TCP to it is dropped, above).
        Assert.True(b.Contains($"connected to {TwoHomes.WanA}:", StringComparison.Ordinal), "B never connected to A's NAT address:\n" + story);
    }

    [Fact(Timeout = 240_000)]
    public async Task Control_WithHolepunchOff_TheDownloadDoesNotComplete()
    {
        ReferenceTools.Require(ReferenceTool.RoutedNamespaces);
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var temp = new TempDirectory("holepunch-off");
        Content torrent = await Content.CreateAsync(temp, ct);
        await using TwoHomes net = await TwoHomes.StartAsync(ct);
        await using Trio trio = await Trio.StartAsync(net, torrent, temp, holepunch: false, ct);

        // Long enough for PEX, the direct dials and their failure (10 s), and a rendezvous had there been one.
        await Task.Delay(ControlWindow, ct);
        string b = trio.B.Process.StandardError;
        Assert.False(trio.B.Process.Lines.Any(l => l.StartsWith("complete:", StringComparison.Ordinal)), "B completed without holepunching: the test cannot tell\n" + trio.Describe());
        Assert.False(b.Contains($"connected to {TwoHomes.WanA}:", StringComparison.Ordinal), "B reached A without holepunching:\n" + trio.Describe());
        Assert.True(b.Contains($"dial to {TwoHomes.WanA}:", StringComparison.Ordinal), "B never tried A (PEX did not name it): the control shows nothing\n" + trio.Describe());
    }

    /// <summary>One 4 MiB file of random bytes and its v1 torrent (PeerNet's creator: no reference tool needed).</summary>
    private sealed record Content(string TorrentPath, string ContentPath)
    {
        public static async Task<Content> CreateAsync(TempDirectory temp, CancellationToken ct)
        {
            string content = temp.Combine("content.bin");
            byte[] bytes = new byte[ContentSize];
            new Random(55).NextBytes(bytes);
            await File.WriteAllBytesAsync(content, bytes, ct);
            TorrentCreationResult created = await TorrentCreator.CreateWithDetailsAsync(new TorrentCreationOptions { SourcePath = content, Version = TorrentVersion.V1, PieceLength = 64 * 1024 }, cancellationToken: ct);
            string torrent = temp.Combine("content.torrent");
            await File.WriteAllBytesAsync(torrent, created.Torrent, ct);
            return new Content(torrent, content);
        }
    }

    [GeneratedRegex(@"holepunch: dial to \S+ connected over uTP")]
    private static partial Regex HolepunchConnected();

    /// <summary>The relay on the internet, A seeding in home A, B downloading in home B; both homes know only the relay.</summary>
    private sealed class Trio : IAsyncDisposable
    {
        private readonly List<PeerNetProcess> _processes = [];

        public PeerNetProcess Relay => _processes[0];

        public PeerNetProcess A => _processes[1];

        public PeerNetProcess B => _processes[2];

        public string Target { get; private init; } = "";

        public static async Task<Trio> StartAsync(TwoHomes net, Content torrent, TempDirectory temp, bool holepunch, CancellationToken ct)
        {
            string[] off = holepunch ? [] : ["--no-holepunch"];
            var trio = new Trio { Target = temp.Combine("download") };
            try
            {
                trio._processes.Add(await PeerNetProcess.StartGetAsync(torrent.TorrentPath, temp.Combine("relay"), new PeerNetOptions
                {
                    Host = TwoHomes.InternetA,
                    NoTrackers = true,
                    Launcher = net.InternetLauncher,
                    ExtraArguments = ["--upload-limit", "1K", "--download-limit", "1K", .. off],
                }, ct));
                string relay = $"{TwoHomes.InternetA}:{trio.Relay.ListenPort}";
                trio._processes.Add(await PeerNetProcess.StartSeedAsync(torrent.TorrentPath, torrent.ContentPath, new PeerNetOptions
                {
                    Host = TwoHomes.HomeA,
                    PeerEndPoints = [relay],
                    NoTrackers = true,
                    Utp = "accept",
                    Launcher = net.HomeALauncher,
                    ExtraArguments = off,
                }, ct));
                trio._processes.Add(await PeerNetProcess.StartGetAsync(torrent.TorrentPath, trio.Target, new PeerNetOptions
                {
                    Host = TwoHomes.HomeB,
                    PeerEndPoints = [relay],
                    NoTrackers = true,
                    Launcher = net.HomeBLauncher,
                    ExtraArguments = off,
                }, ct));
                return trio;
            }
            catch
            {
                await trio.DisposeAsync();
                throw;
            }
        }

        public string Describe() => string.Join("\n", _processes.Select(p => p.Process.Describe()));

        public async ValueTask DisposeAsync()
        {
            foreach (PeerNetProcess process in Enumerable.Reverse(_processes))
            {
                await process.DisposeAsync();
            }
        }
    }
}

/// <summary>
/// Two homes behind two NAT routers and the internet between them: five root network namespaces made by
/// <c>scripts/two_homes.sh</c> (names unique per instance; disposing deletes them whatever happened). Requires
/// <see cref="ReferenceTool.RoutedNamespaces"/> (root).
/// </summary>
internal sealed class TwoHomes : IAsyncDisposable
{
    public const string HomeA = "192.168.71.2";
    public const string WanA = "11.22.33.1";
    public const string InternetA = "11.22.33.2";
    public const string HomeB = "192.168.72.2";
    public const string WanB = "44.55.66.1";

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    private TwoHomes(string suffix) => Suffix = suffix;

    public string Suffix { get; }

    public IReadOnlyList<string> HomeALauncher => ["ip", "netns", "exec", "pnha" + Suffix];

    public IReadOnlyList<string> HomeBLauncher => ["ip", "netns", "exec", "pnhb" + Suffix];

    public IReadOnlyList<string> InternetLauncher => ["ip", "netns", "exec", "pnin" + Suffix];

    public static async Task<TwoHomes> StartAsync(CancellationToken ct)
    {
        var net = new TwoHomes(Random.Shared.Next(0x10000, 0xfffff).ToString("x", CultureInfo.InvariantCulture));
        try
        {
            await ProcessRunner.RunAsync("sh", [PythonScripts.Resolve("two_homes.sh"), "up", net.Suffix], CommandTimeout, cancellationToken: ct);
            return net;
        }
        catch
        {
            await net.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether a TCP connect from home B to A's NAT address and <paramref name="port"/> succeeds within 3 s.</summary>
    public async Task<bool> TcpReachesAsync(int port, CancellationToken ct)
    {
        string probe = $"import socket,sys\ntry:\n socket.create_connection(('{WanA}', {port}), timeout=3)\nexcept OSError:\n sys.exit(1)\n";
        ProcessResult result = await ProcessRunner.RunAsync(HomeBLauncher[0], [.. HomeBLauncher.Skip(1), ReferenceTools.SystemPython, "-c", probe], CommandTimeout, checkExitCode: false, cancellationToken: ct);
        return result.ExitCode == 0;
    }

    public async ValueTask DisposeAsync()
        => await ProcessRunner.RunAsync("sh", [PythonScripts.Resolve("two_homes.sh"), "down", Suffix], CommandTimeout, checkExitCode: false);
}
