using System.CommandLine;
using System.Text.Json;
using PeerNet.Cli.Output;

namespace PeerNet.Cli.Commands;

/// <summary>
/// The verbs that steer a running daemon over its REST API: <c>add</c>, <c>list</c>, <c>show</c>, <c>pause</c>,
/// <c>resume</c>, <c>remove</c> and <c>status</c>. Each finds the daemon through its state folder (<see cref="ClientOptions"/>),
/// prints a table a person can read or, with <c>--json</c>, the daemon's JSON; a daemon that is not running, a refused
/// token or an unknown torrent is one line on stderr and exit code 1.
/// </summary>
internal static class ClientCommands
{
    /// <summary>Every client verb.</summary>
    public static IEnumerable<Command> Build() => [Add(), List(), Show(), Pause(), Resume(), Remove(), Status()];

    private static Command Add()
    {
        var source = new Argument<string>("torrent") { Description = "A .torrent file or a magnet:?… link." };
        var paused = new Option<bool>("--paused") { Description = "Add it paused: nothing is checked, fetched or sent until 'peernet resume'." };
        var save = new Option<string>("--save") { Description = "The folder to save it in (made if needed); default: the daemon's download folder.", HelpName = "DIR" };
        var peers = new Option<string[]>("--peer") { Description = "A peer to connect to at once, as ADDRESS:PORT; repeat for more.", HelpName = "ADDRESS:PORT" };
        var command = new Command("add", "Add a torrent or magnet link to the running daemon.") { source, paused, save, peers };
        return Define(command, async (p, client, json, stdout, ct) =>
        {
            string input = p.GetRequiredValue(source);
            string? folder = p.GetValue(save) is { } dir ? Path.GetFullPath(dir) : null;
            string[]? peerList = p.GetValue(peers) is { Length: > 0 } given ? given : null;
            object body = input.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)
                ? new { magnet = input, savePath = folder, paused = p.GetValue(paused), peers = peerList }
                : new { metainfo = Convert.ToBase64String(await InfoCommand.ReadBytesAsync(input, ct).ConfigureAwait(false)), savePath = folder, paused = p.GetValue(paused), peers = peerList };
            JsonElement torrent = await client.PostAsync("api/v1/torrents", body, ct).ConfigureAwait(false);
            await (json ? ClientView.JsonAsync(stdout, torrent) : stdout.WriteLineAsync(ClientView.Done("added", torrent))).ConfigureAwait(false);
        });
    }

    private static Command List()
    {
        var command = new Command("list", "List the running daemon's torrents: state, progress, size, rates, peers, time left.");
        return Define(command, async (_, client, json, stdout, ct) =>
        {
            JsonElement torrents = await client.GetAsync("api/v1/torrents", ct).ConfigureAwait(false);
            if (json)
            {
                await ClientView.JsonAsync(stdout, torrents).ConfigureAwait(false);
            }
            else
            {
                ClientView.List(stdout, torrents);
            }
        });
    }

    private static Command Show()
    {
        var id = IdArgument();
        var command = new Command("show", "Show one torrent of the running daemon: its status, files, trackers and peers.") { id };
        return Define(command, async (p, client, json, stdout, ct) =>
        {
            string resolved = await client.ResolveAsync(p.GetRequiredValue(id), ct).ConfigureAwait(false);
            string path = $"api/v1/torrents/{resolved}";
            JsonElement torrent = await client.GetAsync(path, ct).ConfigureAwait(false);
            JsonElement files = await client.GetAsync(path + "/files", ct).ConfigureAwait(false);
            JsonElement trackers = await client.GetAsync(path + "/trackers", ct).ConfigureAwait(false);
            JsonElement peers = await client.GetAsync(path + "/peers", ct).ConfigureAwait(false);
            if (json)
            {
                await ClientView.JsonAsync(stdout, new { torrent, files, trackers, peers }).ConfigureAwait(false);
            }
            else
            {
                ClientView.Show(stdout, torrent, files, trackers, peers);
            }
        });
    }

    private static Command Pause() => Act("pause", "paused", "Pause torrents of the running daemon (kept paused across restarts).");

    private static Command Resume() => Act("resume", "resumed", "Resume paused torrents of the running daemon.");

    /// <summary><c>pause</c> or <c>resume</c>: one or more ids, each done in turn (the first unknown one stops there).</summary>
    private static Command Act(string verb, string done, string description)
    {
        var ids = new Argument<string[]>("id") { Description = "A torrent's id (its info-hash, or the start of it as 'peernet list' shows); repeat for more.", Arity = ArgumentArity.OneOrMore };
        var command = new Command(verb, description) { ids };
        return Define(command, async (p, client, json, stdout, ct) =>
        {
            var results = new List<JsonElement>();
            foreach (string id in p.GetRequiredValue(ids))
            {
                string resolved = await client.ResolveAsync(id, ct).ConfigureAwait(false);
                JsonElement torrent = await client.PostAsync($"api/v1/torrents/{resolved}/{verb}", null, ct).ConfigureAwait(false);
                results.Add(torrent);
                if (!json)
                {
                    await stdout.WriteLineAsync(ClientView.Done(done, torrent)).ConfigureAwait(false);
                }
            }

            if (json)
            {
                await ClientView.JsonAsync(stdout, results).ConfigureAwait(false);
            }
        });
    }

    private static Command Remove()
    {
        var id = IdArgument();
        var deleteData = new Option<bool>("--delete-data") { Description = "Delete the torrent's downloaded files too (default: they stay)." };
        var command = new Command("remove", "Remove a torrent from the running daemon, and with --delete-data its files.") { id, deleteData };
        return Define(command, async (p, client, json, stdout, ct) =>
        {
            string resolved = await client.ResolveAsync(p.GetRequiredValue(id), ct).ConfigureAwait(false);
            JsonElement torrent = await client.GetAsync($"api/v1/torrents/{resolved}", ct).ConfigureAwait(false);
            bool delete = p.GetValue(deleteData);
            await client.DeleteAsync($"api/v1/torrents/{resolved}?deleteData={(delete ? "true" : "false")}", ct).ConfigureAwait(false);
            await (json
                ? ClientView.JsonAsync(stdout, new { removed = resolved, deletedData = delete })
                : stdout.WriteLineAsync(ClientView.Done(delete ? "removed, with its files," : "removed", torrent))).ConfigureAwait(false);
        });
    }

    private static Command Status()
    {
        var command = new Command("status", "Show the running daemon's node: ports, connections, rates, totals, DHT.");
        return Define(command, async (_, client, json, stdout, ct) =>
        {
            JsonElement node = await client.GetAsync("api/v1/node", ct).ConfigureAwait(false);
            if (json)
            {
                await ClientView.JsonAsync(stdout, node).ConfigureAwait(false);
            }
            else
            {
                ClientView.Status(stdout, client.BaseAddress, node);
            }
        });
    }

    private static Argument<string> IdArgument() =>
        new("id") { Description = "The torrent's id: its info-hash, or the start of it as 'peernet list' shows." };

    /// <summary>Adds the shared options and an action that connects, runs <paramref name="body"/>, and turns failures into one line.</summary>
    private static Command Define(Command command, Func<ParseResult, DaemonClient, bool, TextWriter, CancellationToken, Task> body)
    {
        var options = new ClientOptions();
        options.AddTo(command);
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, async () =>
            {
                using DaemonClient client = options.Connect(parseResult);
                await body(parseResult, client, parseResult.GetValue(options.Json), stdout, cancellationToken).ConfigureAwait(false);
                return 0;
            });
        });
        return command;
    }
}
