using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using PeerNet.Discovery.Dht;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet dht</c>: runs a Mainline DHT node and prints its routing table's health; <c>dht get</c> and
/// <c>dht put</c> read and store BEP 44 immutable items.
/// </summary>
internal static class DhtCommand
{
    public static Command Build()
    {
        var bind = new Option<string>("--bind") { Description = "Address to bind (0.0.0.0 by default; an IPv6 address runs the IPv6 DHT).", HelpName = "ADDRESS" };
        var port = new Option<int>("--port") { Description = "UDP port (0: any free one).", HelpName = "N" };
        var bootstrap = new Option<string[]>("--bootstrap") { Description = "A node to join through (repeatable). Default: the well-known public routers.", HelpName = "HOST:PORT" };
        var duration = new Option<int>("--duration") { Description = "Stop after this many seconds (default: run until Ctrl+C).", HelpName = "S" };
        var command = new Command("dht", "Run a Mainline DHT node and print its routing table's health every 5 s.") { bind, port, bootstrap, duration };
        command.SetAction((parseResult, cancellationToken) => RunNodeAsync(parseResult, bind, port, bootstrap, async (node, stdout, token) =>
        {
            int seconds = parseResult.GetValue(duration);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
            if (seconds > 0)
            {
                stop.CancelAfter(TimeSpan.FromSeconds(seconds));
            }

            await stdout.WriteLineAsync($"DHT node {node.NodeIdHex} on UDP {node.LocalEndPoint}").ConfigureAwait(false);
            try
            {
                while (true)
                {
                    await stdout.WriteLineAsync(Describe(node.GetStats())).ConfigureAwait(false);
                    await Task.Delay(TimeSpan.FromSeconds(5), stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                await stdout.WriteLineAsync(Describe(node.GetStats())).ConfigureAwait(false);
                return 0;
            }
        }, cancellationToken));

        var target = new Argument<string>("target") { Description = "The item's target: 40 hex digits (what put printed)." };
        var get = new Command("get", "Look up a BEP 44 immutable item and print its value.") { target, bind, port, bootstrap };
        get.SetAction((parseResult, cancellationToken) => RunNodeAsync(parseResult, bind, port, bootstrap, async (node, stdout, token) =>
        {
            string hex = parseResult.GetRequiredValue(target);
            if (hex.Length != 40 || !hex.All(Uri.IsHexDigit))
            {
                throw new FormatException($"'{hex}' is not a target (40 hex digits).");
            }

            byte[]? value = await node.GetImmutableAsync(new Sha1Hash(Convert.FromHexString(hex)), token).ConfigureAwait(false);
            if (value is null)
            {
                await stdout.WriteLineAsync("not found").ConfigureAwait(false);
                return 1;
            }

            await stdout.WriteLineAsync(Encoding.UTF8.GetString(value)).ConfigureAwait(false);
            return 0;
        }, cancellationToken));

        var text = new Argument<string>("text") { Description = "The value to store, as a bencoded string." };
        var put = new Command("put", "Store a string as a BEP 44 immutable item; prints its target.") { text, bind, port, bootstrap };
        put.SetAction((parseResult, cancellationToken) => RunNodeAsync(parseResult, bind, port, bootstrap, async (node, stdout, token) =>
        {
            byte[] bytes = Encoding.UTF8.GetBytes(parseResult.GetRequiredValue(text));
            byte[] value = [.. Encoding.ASCII.GetBytes(bytes.Length.ToString(CultureInfo.InvariantCulture) + ":"), .. bytes];
            DhtPutResult result = await node.PutImmutableAsync(value, token).ConfigureAwait(false);
            await stdout.WriteLineAsync($"{result.Target} stored on {result.AcceptedBy} node(s)").ConfigureAwait(false);
            return result.AcceptedBy > 0 ? 0 : 1;
        }, cancellationToken));

        command.Subcommands.Add(get);
        command.Subcommands.Add(put);
        return command;
    }

    /// <summary>One line of routing-table health, for operators and scripts.</summary>
    public static string Describe(DhtStats s) => string.Create(
        CultureInfo.InvariantCulture,
        $"nodes {s.Nodes} (good {s.GoodNodes}, questionable {s.QuestionableNodes}, bad {s.BadNodes}, replacements {s.ReplacementNodes}) in {s.Buckets} buckets; stored {s.StoredInfoHashes} info-hashes, {s.StoredPeers} peers; queries sent {s.QueriesSent}, received {s.QueriesReceived}, dropped {s.QueriesDropped}; external address {s.ExternalAddress?.ToString() ?? "unknown"}");

    private static Task<int> RunNodeAsync(ParseResult parseResult, Option<string> bind, Option<int> port, Option<string[]> bootstrap, Func<DhtNode, TextWriter, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        TextWriter stdout = parseResult.InvocationConfiguration.Output;
        TextWriter stderr = parseResult.InvocationConfiguration.Error;
        return CommandRunner.RunAsync(stderr, async () =>
        {
            IPAddress ip = PeerOptions.ParseAddress(parseResult.GetValue(bind), IPAddress.Any);

            DhtNode node = await SessionFactory.StartDhtAsync(ip, parseResult.GetValue(port), parseResult.GetValue(bootstrap), stderr, cancellationToken).ConfigureAwait(false);
            await using (node.ConfigureAwait(false))
            {
                return await body(node, stdout, cancellationToken).ConfigureAwait(false);
            }
        });
    }
}
