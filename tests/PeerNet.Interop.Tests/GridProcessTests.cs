using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using PeerNet.Grid;

namespace PeerNet.Interop.Tests;

/// <summary>
/// Redundant storage (docs/storage.md) across real <c>peernet</c> processes on 127.0.0.1, as issue 18 asks of CI: ten
/// <c>store serve</c> providers, a 3-of-10 <c>store put</c>, two providers killed with SIGKILL, <c>store get</c>
/// byte-identical, a killed provider restarted on its state folder still serving the share it acknowledged, and
/// <c>store check --repair</c> with the verify capability restoring 10/10 on fresh providers.
/// </summary>
public sealed partial class GridProcessTests
{
    private const int TestTimeout = 300_000;

    private const int K = 3;

    private const int N = 10;

    /// <summary>Each one-shot verb: dotnet's start, the node's, ten connections and a few MiB; generous, the machine is shared.</summary>
    private static readonly TimeSpan VerbTimeout = TimeSpan.FromSeconds(90);

    [Fact(Timeout = TestTimeout)]
    public async Task PutGetCheckRepair_AcrossTenProcesses_WithTwoKilledByKill9()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var folder = new TempDirectory("grid");
        var providers = new List<PeerNetProcess>();
        try
        {
            // Ten providers, each with its state folder and its own loopback port.
            providers.AddRange(await Task.WhenAll(Enumerable.Range(0, N).Select(i =>
                PeerNetProcess.StartStoreServeAsync(folder.Combine($"provider{i}"), "64M", 0, ct))));
            Assert.Equal(N, providers.Select(p => p.ListenPort).Distinct().Count());

            // A few MiB in 1 MiB segments, the last one short.
            byte[] content = RandomNumberGenerator.GetBytes((3 * 1024 * 1024) + 12_345);
            string original = folder.Combine("original.bin");
            await File.WriteAllBytesAsync(original, content, ct);
            string owner = folder.Combine("owner");
            ProcessResult put = await RunStoreAsync(["put", original, "--shares", $"{K}-of-{N}", "--state", owner], providers, ct);
            string readCap = put.StandardOutput.Trim();
            Assert.Matches(@"^URI:PEERNET-CHK:[a-z2-7]{52}:[a-z2-7]{52}:3:10:3158073$", readCap);

            // The owner's record: which provider acknowledged which share; all ten, one each.
            Dictionary<int, string> placement = ReadPlacement(owner);
            Assert.Equal(N, placement.Count);
            Assert.Equal(N, placement.Values.Distinct().Count());

            // kill -9 two providers: the dotnet host running peernet.dll is the peernet process itself (no wrapper).
            PeerNetProcess[] killed = [providers[2], providers[7]];
            foreach (PeerNetProcess provider in killed)
            {
                await provider.Process.KillAsync();
                int exit = await provider.Process.WaitForExitAsync(TimeSpan.FromSeconds(10), ct);
                Assert.True(exit == 128 + 9, $"{provider.Address} exited with {exit}, not by SIGKILL.\n{provider.Process.Describe()}");
            }

            // Eight left, three needed: the file comes back byte for byte (every block checked on the way).
            string fetched = folder.Combine("fetched.bin");
            ProcessResult get = await RunStoreAsync(["get", readCap, "-o", fetched, "--state", folder.Combine("reader")], providers, ct);
            Assert.Contains("every block verified", get.StandardOutput, StringComparison.Ordinal);
            byte[] fetchedBytes = await File.ReadAllBytesAsync(fetched, ct);
            Assert.True(content.AsSpan().SequenceEqual(fetchedBytes), "the fetched file differs from the one put");

            // The killed provider's disk still has the share it acknowledged, committed (nothing left half-written).
            PeerNetProcess victim = killed[0];
            string victimState = folder.Combine("provider2");
            int victimShare = placement.Single(p => victim.Address!.EndsWith("/p2p/" + p.Value, StringComparison.Ordinal)).Key;
            string[] onDisk = Directory.GetFiles(Path.Combine(victimState, "grid", "shares"), "*.share", SearchOption.AllDirectories);
            Assert.Equal([$"{victimShare}.share"], onDisk.Select(Path.GetFileName));

            // Restarted on the same state folder and port, it is the same peer and serves that share again: eight
            // providers that never died hold eight shares, so a ninth healthy one can only be the restarted one's.
            PeerNetProcess restarted = await PeerNetProcess.StartStoreServeAsync(victimState, "64M", victim.ListenPort, ct);
            providers.Add(restarted);
            Assert.Equal(victim.Address, restarted.Address);
            string incoming = Path.Combine(victimState, "grid", "incoming");
            Assert.False(Directory.Exists(incoming) && Directory.EnumerateFileSystemEntries(incoming).Any(), "a half-written upload survived the restart");
            ProcessResult check = await RunStoreAsync(["check", readCap, "--state", folder.Combine("auditor")], providers, ct);
            Assert.Equal((N - 1, 0), ParseCheck(check));

            // Repair with the verify capability (it cannot decrypt), from the owner's node: two fresh providers.
            ProcessResult verify = await PeerNetProcess.RunAsync(["store", "verifycap", readCap], VerbTimeout, checkExitCode: true, ct);
            string verifyCap = verify.StandardOutput.Trim();
            Assert.StartsWith("URI:PEERNET-CHK-VERIFIER:", verifyCap, StringComparison.Ordinal);
            Assert.EndsWith(":3:10:3158073", verifyCap, StringComparison.Ordinal);
            providers.AddRange(await Task.WhenAll(Enumerable.Range(N, 2).Select(i =>
                PeerNetProcess.StartStoreServeAsync(folder.Combine($"provider{i}"), "64M", 0, ct))));
            ProcessResult repair = await RunStoreAsync(["check", verifyCap, "--repair", "--state", owner], providers, ct);
            Assert.Equal((N, 1), ParseCheck(repair));
            int repairedOnFresh = Enumerable.Range(N, 2)
                .Sum(i => Directory.Exists(folder.Combine($"provider{i}", "grid", "shares"))
                    ? Directory.GetFiles(folder.Combine($"provider{i}", "grid", "shares"), "*.share", SearchOption.AllDirectories).Length
                    : 0);
            Assert.Equal(1, repairedOnFresh);

            // A second check finds every share healthy, and the owner's list says so.
            Assert.Equal((N, 0), ParseCheck(await RunStoreAsync(["check", verifyCap, "--state", folder.Combine("auditor")], providers, ct)));
            ProcessResult list = await PeerNetProcess.RunAsync(["store", "ls", "--state", owner, "--bind", "127.0.0.1"], VerbTimeout, checkExitCode: true, ct);
            string line = Assert.Single(list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains($"{N}/{N} (k={K})", line, StringComparison.Ordinal);
            Assert.EndsWith(readCap, line.TrimEnd(), StringComparison.Ordinal);
        }
        finally
        {
            foreach (PeerNetProcess provider in providers)
            {
                await provider.DisposeAsync();
            }
        }
    }

    /// <summary><c>peernet store VERB ... --bind 127.0.0.1 --peer ADDRESS</c> for every provider started (dead ones too).</summary>
    private static Task<ProcessResult> RunStoreAsync(string[] arguments, IEnumerable<PeerNetProcess> providers, CancellationToken ct)
        => PeerNetProcess.RunAsync(
            ["store", .. arguments, "--bind", "127.0.0.1", .. providers.Select(p => p.Address!).Distinct().SelectMany(a => new[] { "--peer", a })],
            VerbTimeout,
            checkExitCode: true,
            ct);

    /// <summary>Share number → provider peer ID, from the owner's <c>grid/owned.txt</c> (its single file).</summary>
    /// <summary>The placement the owner recorded, read by the node's own reader of <c>grid/owned.txt</c>.</summary>
    private static Dictionary<int, string> ReadPlacement(string ownerState)
        => Assert.Single(new GridRecords(Path.Combine(ownerState, "grid", "owned.txt")).All()).Shares.ToDictionary();

    /// <summary><c>9/10 shares healthy (need 3), 1 repaired</c> → (9, 1).</summary>
    private static (int Healthy, int Repaired) ParseCheck(ProcessResult result)
    {
        Match m = CheckPattern().Match(result.StandardOutput);
        Assert.True(m.Success && m.Groups["n"].Value == $"{N}", $"not a check line:\n{result.Describe()}");
        return (int.Parse(m.Groups["healthy"].Value, CultureInfo.InvariantCulture),
            m.Groups["repaired"].Success ? int.Parse(m.Groups["repaired"].Value, CultureInfo.InvariantCulture) : 0);
    }

    [GeneratedRegex(@"^(?<healthy>\d+)/(?<n>\d+) shares healthy \(need 3\)(?:, (?<repaired>\d+) repaired)?", RegexOptions.Multiline)]
    private static partial Regex CheckPattern();
}
