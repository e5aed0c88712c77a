using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;
using PeerNet.Grid;
using PeerNet.Libp2p;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet store put|get|check|ls|serve</c>: redundant storage across peers (docs/storage.md). Each verb runs a node
/// of its own on the state folder given (its identity, its record of what it put, the shares it lends).
/// </summary>
internal static class StoreCommand
{
    public static Command Build()
    {
        var command = new Command("store", "Store files on other peers as encrypted k-of-n shares; fetch, check and repair them; lend space.");
        command.Subcommands.Add(Put());
        command.Subcommands.Add(Get());
        command.Subcommands.Add(Check());
        command.Subcommands.Add(List());
        command.Subcommands.Add(Serve());
        command.Subcommands.Add(VerifyCap());
        return command;
    }

    private sealed class Common
    {
        public Option<string> State { get; } = new("--state") { Description = "The node's state folder (identity, what it put, what it lends). Default: $XDG_STATE_HOME/peernet/store.", HelpName = "DIR" };

        public Option<int> Port { get; } = new("--port") { Description = "The TCP port to listen on (0: any free one).", HelpName = "N", DefaultValueFactory = _ => 0 };

        public Option<string> Bind { get; } = new("--bind") { Description = "Listen on this address only (127.0.0.1 keeps the node on this machine). Default: every IPv4 address.", HelpName = "ADDRESS" };

        public Option<string[]> Peers { get; } = new("--peer") { Description = "A peer to connect to first, as /ip4/ADDR/tcp/PORT/p2p/ID (repeatable).", HelpName = "MULTIADDR", AllowMultipleArgumentsPerToken = false };

        public void AddTo(Command command, bool peers = true)
        {
            command.Options.Add(State);
            command.Options.Add(Port);
            command.Options.Add(Bind);
            if (peers)
            {
                command.Options.Add(Peers);
            }
        }

        public async Task<PeerNetNode> StartAsync(ParseResult parse, long share, CancellationToken cancellationToken, IReadOnlyCollection<Libp2pPeerId>? allowed = null)
        {
            var node = await PeerNetNode.StartAsync(new PeerNetNodeOptions
            {
                ListenAddress = PeerOptions.ParseAddress(parse.GetValue(Bind), IPAddress.Any),
                ListenPort = parse.GetValue(Port),
                StateDirectory = parse.GetValue(State) ?? Path.Combine(PeerOptions.StateDirectory(), "store"),
                Dht = false,
                LocalDiscovery = false,
                Trackers = false,
                StorageShareBytes = share,
                StorageAllowedPeers = allowed ?? [],
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
            foreach (string text in parse.GetValue(Peers) ?? [])
            {
                Multiaddr address = Multiaddr.TryParse(text, out Multiaddr? parsed, out string? error) ? parsed! : throw new ArgumentException($"--peer {text}: {error}");
                try
                {
                    await node.Libp2p.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
                }
                catch (IOException e)
                {
                    await parse.InvocationConfiguration.Error.WriteLineAsync($"peernet: {text} could not be reached: {e.Message}").ConfigureAwait(false);
                }
            }

            return node;
        }
    }

    private static Command VerifyCap()
    {
        var cap = new Argument<string>("CAP") { Description = "A read capability (or a verify capability, printed as it is)." };
        var command = new Command("verifycap", "Print the verify capability of CAP: enough to check and repair the file, not to read it.") { cap };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            GridCapability capability = ParseCapability(parse.GetValue(cap)!);
            await parse.InvocationConfiguration.Output.WriteLineAsync(capability.ToVerify().ToString().AsMemory(), ct).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static GridCapability ParseCapability(string text) =>
        GridCapability.TryParse(text.Trim(), out GridCapability? capability, out string? error) ? capability! : throw new ArgumentException($"not a storage capability: {error}.");

    private static Command Put()
    {
        var common = new Common();
        var file = new Argument<string>("FILE") { Description = "The file to store." };
        var shares = new Option<(int K, int N)?>("--shares")
        {
            Description = "Any K of the N shares rebuild the file, each share on a distinct peer where there are N. Default: 3-of-10.",
            HelpName = "K-of-N",
            CustomParser = ParseShares,
        };
        var convergent = new Option<bool>("--convergent") { Description = "Derive the key from the content (same file, same shares); lets anyone who can guess the file confirm it is stored." };
        var command = new Command("put", "Encrypt FILE, code it into N shares placed on peers, and print its read capability.") { file, shares, convergent };
        common.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            PeerNetNode node = await common.StartAsync(parse, 0, ct).ConfigureAwait(false);
            await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable disposing = node.ConfigureAwait(false);
            (int k, int n) = parse.GetValue(shares) ?? (3, 10);
            GridCapability capability = await node.Storage.PutFileAsync(parse.GetValue(file)!, new GridPutOptions { K = k, N = n, Convergent = parse.GetValue(convergent) }, ct).ConfigureAwait(false);
            await parse.InvocationConfiguration.Output.WriteLineAsync(capability.ToString()).ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static (int, int)? ParseShares(ArgumentResult result)
    {
        string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        string[] parts = text.Split("-of-");
        if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int k)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && k >= 1 && n >= k && n <= 256)
        {
            return (k, n);
        }

        result.AddError($"'{text}' is not K-of-N with 1 ≤ K ≤ N ≤ 256, as in 3-of-10.");
        return (0, 0);
    }

    private static Command Get()
    {
        var common = new Common();
        var cap = new Argument<string>("CAP") { Description = "The read capability put printed." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the file.", HelpName = "FILE", Required = true };
        var command = new Command("get", "Fetch any K shares of a stored file, check every block and decrypt it to FILE.") { cap, output };
        common.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            GridCapability capability = ParseCapability(parse.GetValue(cap)!);
            PeerNetNode node = await common.StartAsync(parse, 0, ct).ConfigureAwait(false);
            await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable disposing = node.ConfigureAwait(false);
            string path = Path.GetFullPath(parse.GetValue(output)!);
            string partial = path + ".part";
            FileStream destination = File.Create(partial);
            await using (destination.ConfigureAwait(false))
            {
                await node.Storage.GetAsync(capability, destination, ct).ConfigureAwait(false);
            }

            File.Move(partial, path, overwrite: true);
            await parse.InvocationConfiguration.Output.WriteLineAsync($"{path}: {ByteSize.Format(capability.Size)}, every block verified").ConfigureAwait(false);
            return 0;
        }));
        return command;
    }

    private static Command Check()
    {
        var common = new Common();
        var cap = new Argument<string>("CAP") { Description = "A read or verify capability." };
        var repair = new Option<bool>("--repair") { Description = "Regenerate missing or failed shares from any K and place them on new peers." };
        var command = new Command("check", "Audit the providers of a stored file: shares alive of N, and with --repair restore them.") { cap, repair };
        common.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            GridCapability capability = ParseCapability(parse.GetValue(cap)!);
            PeerNetNode node = await common.StartAsync(parse, 0, ct).ConfigureAwait(false);
            await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable disposing = node.ConfigureAwait(false);
            GridHealth health = await node.Storage.CheckAsync(capability, parse.GetValue(repair), ct).ConfigureAwait(false);
            TextWriter stdout = parse.InvocationConfiguration.Output;
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{health.HealthyShares.Count}/{health.N} shares healthy (need {health.K}){(health.RepairedShares.Count > 0 ? $", {health.RepairedShares.Count} repaired" : "")}{(health.FailedProviders.Count > 0 ? $", {health.FailedProviders.Count} providers failed" : "")}")).ConfigureAwait(false);
            return health.Recoverable ? 0 : CommandRunner.ExitFailure;
        }));
        return command;
    }

    private static Command List()
    {
        var common = new Common();
        var command = new Command("ls", "List the files this node put, with their shares alive at the last check.");
        common.AddTo(command, peers: false);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            PeerNetNode node = await common.StartAsync(parse, 0, ct).ConfigureAwait(false);
            await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable disposing = node.ConfigureAwait(false);
            foreach (GridStoredFile f in node.Storage.List())
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{f.StoredAt:yyyy-MM-dd HH:mm}  {ByteSize.Format(f.Size),10}  {f.HealthyShares}/{f.N} (k={f.K})  {f.Capability}")).ConfigureAwait(false);
            }

            return 0;
        }));
        return command;
    }

    private static Command Serve()
    {
        var common = new Common();
        var share = new Option<long>("--share")
        {
            Description = "How much disk to lend other peers' shares, as 500M or 50G.",
            HelpName = "SIZE",
            Required = true,
            CustomParser = r =>
            {
                string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (!ByteSize.TryParse(text, out long bytes) || bytes <= 0)
                {
                    r.AddError($"'{text}' is not a size: use bytes or a suffix, as in 500M or 50G.");
                }

                return bytes;
            },
        };
        var allow = new Option<Libp2pPeerId[]>("--allow")
        {
            Description = "Lend only to this peer (repeatable; default: any peer, within SIZE).",
            HelpName = "PEERID",
            AllowMultipleArgumentsPerToken = false,
            CustomParser = r =>
            {
                var ids = new List<Libp2pPeerId>();
                foreach (var token in r.Tokens)
                {
                    if (Libp2pPeerId.TryParse(token.Value, out Libp2pPeerId? id, out string? error))
                    {
                        ids.Add(id);
                    }
                    else
                    {
                        r.AddError($"--allow {token.Value}: {error}");
                    }
                }

                return [.. ids];
            },
        };
        var command = new Command("serve", "Lend SIZE of disk to other peers' shares until interrupted; prints the addresses to give to --peer.") { share, allow };
        common.AddTo(command);
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse.InvocationConfiguration.Error, async () =>
        {
            PeerNetNode node = await common.StartAsync(parse, parse.GetValue(share), ct, parse.GetValue(allow)).ConfigureAwait(false);
            await using System.Runtime.CompilerServices.ConfiguredAsyncDisposable disposing = node.ConfigureAwait(false);
            foreach (Multiaddr address in node.Libp2p.ListenAddresses)
            {
                await parse.InvocationConfiguration.Output.WriteLineAsync(address.ToString()).ConfigureAwait(false);
            }

            await parse.InvocationConfiguration.Output.FlushAsync(ct).ConfigureAwait(false);
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        }));
        return command;
    }
}
