using System.CommandLine;
using System.CommandLine.Parsing;
using PeerNet.Cli.Demo;

namespace PeerNet.Cli.Commands;

/// <summary><c>peernet demo</c>: a seeder and a dozen leechers on loopback, showing peer-to-peer distribution.</summary>
internal static class DemoCommand
{
    public static Command Build()
    {
        var defaults = new DemoOptions();
        var peers = new Option<int>("--peers") { Description = $"Leechers (1 to {DemoOptions.MaxPeers}).", HelpName = "N", DefaultValueFactory = _ => defaults.Peers };
        var size = new Option<long?>("--size") { Description = "Random content to share, e.g. 8M or 1G. Default: 64M.", HelpName = "SIZE", CustomParser = ParseSize };
        var seedRate = new Option<long?>("--seed-rate") { Description = "The seeder's upload cap per second (0: none). Default: 4M.", HelpName = "RATE", CustomParser = r => PeerOptions.ParseRate(r) };
        var peerRate = new Option<long?>("--peer-rate") { Description = "Each leecher's upload cap per second (0: none). Default: 6M.", HelpName = "RATE", CustomParser = r => PeerOptions.ParseRate(r) };
        var churn = new Option<bool>("--churn") { Description = "A quarter of the leechers leave mid-download and rejoin, resuming from what they verified." };
        var badPeer = new Option<bool>("--bad-peer") { Description = "Add a peer that sends corrupt blocks; watch it get banned." };
        var seed = new Option<int?>("--seed") { Description = "Seed for the content, the topology and who leaves when, to repeat a run. Default: random, printed.", HelpName = "N" };
        var noSuperSeed = new Option<bool>("--no-super-seed") { Description = "The seeder shows every piece at once instead of super-seeding (BEP 16), to compare." };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary folder (content, .torrent, every copy) and print where it is." };
        var command = new Command("demo", "Run a local swarm on loopback — one seeder, a dozen capped leechers — and show peer-to-peer distribution at work.")
        {
            peers, size, seedRate, peerRate, churn, badPeer, seed, keep, noSuperSeed,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            var options = new DemoOptions
            {
                Peers = parseResult.GetValue(peers),
                Size = parseResult.GetValue(size) ?? defaults.Size,
                SeedRate = parseResult.GetValue(seedRate) ?? defaults.SeedRate,
                PeerRate = parseResult.GetValue(peerRate) ?? defaults.PeerRate,
                Churn = parseResult.GetValue(churn),
                BadPeer = parseResult.GetValue(badPeer),
                Seed = parseResult.GetValue(seed) ?? Random.Shared.Next(1, 1_000_000),
                Keep = parseResult.GetValue(keep),
                SuperSeed = !parseResult.GetValue(noSuperSeed),
            };
            return CommandRunner.RunAsync(stderr, () => RunAsync(options, stdout, stderr, cancellationToken));
        });
        return command;
    }

    /// <summary>Runs the demo with its view; 0 when every copy verified.</summary>
    public static async Task<int> RunAsync(DemoOptions options, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken)
    {
        options.Validate();
        DemoSwarm swarm = new(options);
        await using (swarm.ConfigureAwait(false))
        {
            DemoResult result = await DemoView.RunAsync(swarm, stdout, cancellationToken).ConfigureAwait(false);
            if (swarm.Diagnostics is { } diagnostics)
            {
                await stderr.WriteLineAsync("the torrents that stalled:\n" + diagnostics).ConfigureAwait(false);
            }

            if (options.Keep)
            {
                await stdout.WriteLineAsync($"kept: {swarm.Root}").ConfigureAwait(false);
            }

            return result.Success ? 0 : CommandRunner.ExitFailure;
        }
    }

    private static long? ParseSize(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (!ByteSize.TryParse(text, out long bytes) || bytes <= 0)
        {
            result.AddError($"'{text}' is not a size: use bytes or a suffix, as in 500K, 64M or 1G.");
        }

        return bytes;
    }
}
