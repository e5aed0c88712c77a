using System.Globalization;

namespace PeerNet.Codecs.Tests.Erasure;

/// <summary>
/// Issue 18's durability question in a simulated month: 100 providers, 1,000 files coded 3-of-10, 30% of the providers
/// leaving while as many join. The default run is the full scenario (it takes a second or two: shares are
/// 1 KiB); PEERNET_CHURN_TABLE=1 prints the table in docs/performance.md over several policies.
/// </summary>
public sealed class ChurnSimulationTests
{
    [Fact]
    public void With_daily_checks_and_repair_every_file_survives_a_month_of_churn()
    {
        var result = ChurnSimulation.Run(new ChurnSimulation.Settings());

        Assert.Equal(30, result.ProvidersLeft);
        Assert.Equal(30, result.ProvidersJoined);
        Assert.Equal(0, result.FilesLost);
        Assert.Equal(1000, result.FilesRetrievable); // every file decoded byte-identical from k surviving shares
        Assert.True(result.MinLiveShares >= 3, $"a file fell to {result.MinLiveShares} shares");
        Assert.True(result.SharesLost > 0 && result.SharesRebuilt > 0);

        // Repairing at the first loss reads k shares and writes one per lost share; losses of the same file within
        // one check interval share the k reads, so the measured cost is at most the theory's and close to it.
        double theory = (3 + 1.0) * result.BytesHeldPerLostProvider;
        Assert.InRange(result.RepairBytesPerLostProvider, 0.8 * theory, theory * 1.0001);
    }

    [Fact]
    public void Without_repair_the_same_code_loses_files_to_heavier_churn()
    {
        // The check above could fail: with 70% of providers gone and nobody repairing, a file whose 10 providers
        // include 8 leavers is gone (about 38% of them by the binomial), and the simulation must say so.
        var result = ChurnSimulation.Run(new ChurnSimulation.Settings { Leaving = 0.7, Repair = false });

        Assert.InRange(result.FilesLost, 200, 600);
        Assert.Equal(1000 - result.FilesLost, result.FilesRetrievable);
        Assert.Equal(0, result.Repairs);
    }

    [Fact]
    public void A_lazy_threshold_moves_fewer_bytes_per_rebuilt_share()
    {
        var eager = ChurnSimulation.Run(new ChurnSimulation.Settings());
        var lazy = ChurnSimulation.Run(new ChurnSimulation.Settings { RepairBelow = 7 });

        Assert.Equal(0, lazy.FilesLost);
        Assert.Equal(1000, lazy.FilesRetrievable);
        Assert.True(
            (double)lazy.RepairBytesDown / lazy.SharesRebuilt < (double)eager.RepairBytesDown / eager.SharesRebuilt,
            "repairing several missing shares at once must share the k reads");
    }

    [Fact]
    public void Figures()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("PEERNET_CHURN_TABLE") == "1", "Set PEERNET_CHURN_TABLE=1 to print the churn table.");
        ITestOutputHelper output = TestContext.Current.TestOutputHelper!;
        output.WriteLine("| scenario | files lost | min live shares | shares lost | repairs | shares rebuilt | repair traffic per lost provider (× what it held) | per rebuilt share (× share) | theory per rebuilt share |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        (string Name, ChurnSimulation.Settings Settings)[] scenarios =
        [
            ("3-of-10, 30% leave, daily checks, repair below 10", new()),
            ("3-of-10, 30% leave, daily checks, repair below 7", new() { RepairBelow = 7 }),
            ("3-of-10, 30% leave, weekly checks, repair below 10", new() { CheckInterval = TimeSpan.FromDays(7) }),
            ("3-of-10, 30% leave, no repair", new() { Repair = false }),
            ("3-of-10, 70% leave, daily checks, repair below 10", new() { Leaving = 0.7 }),
            ("3-of-10, 70% leave, no repair", new() { Leaving = 0.7, Repair = false }),
            ("10-of-16, 30% leave, daily checks, repair below 16", new() { K = 10, N = 16, RepairBelow = 16 }),
        ];
        foreach ((string name, ChurnSimulation.Settings settings) in scenarios)
        {
            var r = ChurnSimulation.Run(settings);
            int m = Math.Max(1, settings.N - settings.RepairBelow + 1);
            double theory = settings.Repair ? (settings.K + m) / (double)m : 0;
            double perProvider = r.BytesHeldPerLostProvider == 0 ? 0 : r.RepairBytesPerLostProvider / r.BytesHeldPerLostProvider;
            double perShare = r.SharesRebuilt == 0 ? 0 : (double)(r.RepairBytesDown + r.RepairBytesUp) / r.SharesRebuilt / r.ShareSize;
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"| {name} | {r.FilesLost} | {r.MinLiveShares} | {r.SharesLost} | {r.Repairs} | {r.SharesRebuilt} | {perProvider:F2} | {perShare:F2} | {theory:F2} |"));
        }
    }
}
