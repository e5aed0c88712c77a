using System.CommandLine;
using System.Net;
using PeerNet.Daemon.Hosting;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet daemon [--config FILE] [--state DIR] [--api ADDRESS:PORT] [--port N]</c>: runs the always-on node with
/// its REST API until SIGTERM or Ctrl+C (PeerNet.Daemon is the host; this verb only reads the command line).
/// </summary>
internal static class DaemonCommand
{
    /// <summary>The verb's name: <see cref="PeerNetCli.RunAsync(string[], TextWriter?, TextWriter?, CancellationToken)"/> leaves its signals to the host.</summary>
    public const string Name = "daemon";

    public static Command Build()
    {
        var config = new Option<string>("--config") { Description = "The settings file (JSON); default: settings.json in the state folder, if there is one." };
        var state = new Option<string>("--state") { Description = "The state folder (torrents, resume data, API token); default: $XDG_DATA_HOME/peernet, else ~/.local/share/peernet." };
        var api = new Option<string>("--api") { Description = "The API's ADDRESS:PORT; default 127.0.0.1:8870. Another address than loopback needs Api:Token in the settings file." };
        var port = new Option<int?>("--port") { Description = "The node's port for peers (TCP, and UDP for the DHT); default 6881." };
        var command = new Command(Name, "Run an always-on node with an authenticated REST API (/api/v1, reference at /scalar) until SIGTERM or Ctrl+C.")
        {
            config, state, api, port,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, async () =>
            {
                IPEndPoint? apiEndPoint = null;
                if (parseResult.GetValue(api) is { } text && !IPEndPoint.TryParse(text, out apiEndPoint))
                {
                    throw new ArgumentException($"--api '{text}' is not ADDRESS:PORT (e.g. 127.0.0.1:8870)");
                }

                var launch = new DaemonLaunch(parseResult.GetValue(state), parseResult.GetValue(config), apiEndPoint, parseResult.GetValue(port));
                try
                {
                    await PeerNetDaemon.RunAsync(launch, cancellationToken).ConfigureAwait(false);
                }
                catch (Microsoft.Extensions.Options.OptionsValidationException e)
                {
                    throw new ArgumentException("the settings are not usable: " + string.Join("; ", e.Failures), e);
                }

                return 0;
            });
        });
        return command;
    }
}
