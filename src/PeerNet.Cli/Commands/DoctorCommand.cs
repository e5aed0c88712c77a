using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using PeerNet.Cli.Output;
using PeerNet.Daemon.Api;
using PeerNet.Discovery.Dht;
using Spectre.Console;

namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>peernet doctor</c>: starts a node (or asks a running daemon, with <c>--daemon</c>), lets the DHT join and the port
/// mapping run for up to <c>--wait</c> seconds, and prints its connectivity report (<see cref="PeerNetNode.Diagnose"/>):
/// listen addresses, port mapping, external addresses, inbound connections, DHT, libp2p, and what to do about each
/// problem; <c>--json</c> prints the daemon API's JSON shape instead.
/// </summary>
internal static class DoctorCommand
{
    public static Command Build()
    {
        var port = PeerOptions.PortOption("The port to test, TCP and UDP, as the daemon's (0: any free one).");
        port.DefaultValueFactory = _ => 6881;
        var bind = new Option<string>("--bind") { Description = "Address to listen on. Default: every address.", HelpName = "ADDRESS" };
        var state = new Option<string>("--state")
        {
            Description = "The node's state folder (DHT table, identity); default $XDG_STATE_HOME/peernet. With --daemon: the daemon's state folder, as the client verbs take it.",
            HelpName = "DIR",
        };
        var wait = new Option<int>("--wait")
        {
            Description = "Seconds to let the DHT join and the port mapping run before reporting (it reports sooner once both are settled).",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 15,
        };
        var bootstrap = new Option<string[]>("--bootstrap") { Description = "A DHT node to join through (repeatable). Default: the well-known public routers.", HelpName = "HOST:PORT" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (the shape of the daemon's GET /api/v1/node/doctor)." };
        var daemon = new Option<bool>("--daemon") { Description = "Show the running daemon's report instead of starting a node (its state folder from --state, or --api and --token-file)." };
        var api = new Option<string>("--api") { Description = "With --daemon: the daemon's URL (http://HOST:PORT), instead of the state folder's api-endpoint file.", HelpName = "URL" };
        var tokenFile = new Option<string>("--token-file") { Description = "With --daemon: a file holding the API token, instead of the state folder's api-token.", HelpName = "FILE" };
        var command = new Command("doctor", "Check connectivity: listen ports, port mapping, external address, inbound TCP and uTP, DHT, libp2p; one sentence per problem with what to do.")
        {
            port, bind, state, wait, bootstrap, json, daemon, api, tokenFile,
        };
        command.SetAction((parseResult, cancellationToken) =>
        {
            TextWriter stdout = parseResult.InvocationConfiguration.Output;
            TextWriter stderr = parseResult.InvocationConfiguration.Error;
            return CommandRunner.RunAsync(stderr, async () =>
            {
                DoctorReport report;
                if (parseResult.GetValue(daemon))
                {
                    using DaemonClient client = DaemonClient.Create(parseResult.GetValue(state), parseResult.GetValue(api), parseResult.GetValue(tokenFile));
                    JsonElement body = await client.GetAsync("api/v1/node/doctor", cancellationToken).ConfigureAwait(false);
                    report = body.Deserialize<DoctorReport>(DoctorReport.JsonOptions) ?? throw new InvalidOperationException($"the daemon {client.Where} sent no report");
                }
                else
                {
                    int seconds = parseResult.GetValue(wait);
                    if (seconds < 0)
                    {
                        throw new ArgumentException($"--wait {seconds}: give a number of seconds, 0 or more.");
                    }

                    report = await RunNodeAsync(
                        parseResult.GetValue(port),
                        PeerOptions.ParseAddress(parseResult.GetValue(bind), IPAddress.IPv6Any),
                        parseResult.GetValue(state) ?? PeerOptions.StateDirectory(),
                        parseResult.GetValue(bootstrap),
                        TimeSpan.FromSeconds(seconds),
                        stderr,
                        cancellationToken).ConfigureAwait(false);
                }

                if (parseResult.GetValue(json))
                {
                    await stdout.WriteLineAsync(JsonSerializer.Serialize(report, DoctorReport.JsonOptions)).ConfigureAwait(false);
                }
                else
                {
                    await WriteAsync(stdout, report).ConfigureAwait(false);
                }

                return 0;
            });
        });
        return command;
    }

    /// <summary>Starts a node, waits until its DHT and port mapping have settled (or <paramref name="wait"/> passed), and reports.</summary>
    private static async Task<DoctorReport> RunNodeAsync(int port, IPAddress address, string stateFolder, string[]? bootstrap, TimeSpan wait, TextWriter stderr, CancellationToken cancellationToken)
    {
        var options = new PeerNetNodeOptions
        {
            ListenAddress = address,
            ListenPort = port,
            StateDirectory = stateFolder,
            DhtBootstrapNodes = bootstrap is { Length: > 0 } ? bootstrap : null,
        };
        await stderr.WriteLineAsync($"Starting a node on port {port} for up to {wait.TotalSeconds:0} s (DHT, port mapping)...").ConfigureAwait(false);
        PeerNetNode node;
        try
        {
            node = await PeerNetNode.StartAsync(options, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            throw new IOException($"port {port} is in use (a running daemon?): 'peernet doctor --daemon' shows the daemon's report; or test another port with --port N.", e);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AccessDenied)
        {
            throw new IOException($"cannot listen on {address} port {port} ({e.SocketErrorCode}): give another --bind or --port.", e);
        }

        await using (node.ConfigureAwait(false))
        {
            long start = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(start) < wait && !Settled(node.Diagnose()))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(false);
            }

            return DoctorReport.From(node.Diagnose());
        }
    }

    /// <summary>BEP 55 in one line: what this node relayed for others, then what it asked relays for and how its dials went.</summary>
    internal static string Holepunch(HolepunchReport h) =>
        h.RendezvousReceived + h.RendezvousSent + h.ConnectsReceived == 0
            ? "none yet"
            : $"relayed {h.Relayed} of {h.RendezvousReceived} asked ({h.ErrorsSent} refused, {h.RateLimited} over the rate); "
              + $"asked relays {h.RendezvousSent} times ({h.ErrorsReceived} refused), {h.ConnectsReceived} connects, {h.Connected} connected, {h.ConnectFailed} failed";

    /// <summary>Whether waiting longer would not change the report: every DHT node done joining, and a mapping in place (or none to try).</summary>
    private static bool Settled(ConnectivityReport report)
    {
        bool dht = new[] { report.Dht, report.Dht6 }.All(d => d is null || d.Bootstrap is DhtBootstrapState.Joined or DhtBootstrapState.NobodyAnswered);
        bool mapping = !report.PortMapping.Enabled || report.PortMapping.Protocol != PortMappingProtocol.None;
        return dht && mapping;
    }

    /// <summary>The report as text: facts first, then the problems (coloured on a terminal).</summary>
    internal static async Task WriteAsync(TextWriter stdout, DoctorReport r)
    {
        var text = new List<string>
        {
            $"Node up {Age(TimeSpan.FromSeconds(r.UptimeSeconds))}, port {r.ListenPort}; {Count.Of(r.Torrents, "torrent")}, {Count.Of(r.Connections, "peer connection")}",
            "",
            "Listening",
            $"  TCP            {Join(r.Tcp)}",
            $"  UDP            {Join(r.Udp)} (DHT, UDP trackers{(r.UtpIncoming ? ", uTP" : "")})",
            $"  libp2p         {(r.Libp2pListenAddresses.Count == 0 ? "none" : r.Libp2pListenAddresses[0])}",
        };
        text.AddRange(r.Libp2pListenAddresses.Skip(1).Select(a => $"                 {a}"));
        text.Add($"Port mapping     {Mapping(r.PortMapping, r.At)}");
        text.Add("External address");
        if (r.ExternalAddresses.Count == 0)
        {
            text.Add("  unknown        (no router mapping, and no DHT node or peer told it yet)");
        }

        text.AddRange(r.ExternalAddresses.Select(a => $"  {a.Address,-14} {Source(a)}"));
        text.Add("Inbound");
        text.Add($"  TCP            {Inbound(r.InboundTcp, r.At)}");
        text.Add($"  uTP            {(r.UtpIncoming ? Inbound(r.InboundUtp, r.At) : "off")}");
        if (r.UtpIncoming)
        {
            text.Add($"  uTP SYNs       {Syns(r.Utp)}");
        }
        text.Add($"  holepunch      {Holepunch(r.Holepunch)}");
        text.Add("DHT");
        text.Add($"  IPv4           {Dht(r.Dht, r.At)}");
        text.Add($"  IPv6           {Dht(r.Dht6, r.At)}");
        text.Add($"libp2p           {Count.Of(r.Libp2pConnectedPeers, "peer")} connected");
        if (r.Libp2pResources is { } resources)
        {
            text.Add($"  limits         {string.Join(", ", resources.Limits.Select(Limit))}");
            text.Add($"  refused        {(resources.Refused.Count == 0 ? "none" : string.Join(", ", resources.Refused.OrderByDescending(p => p.Value).Select(p => $"{p.Key} {p.Value}")))}");
        }

        text.Add("");
        foreach (string line in text)
        {
            await stdout.WriteLineAsync(line).ConfigureAwait(false);
        }

        if (r.Problems.Count == 0)
        {
            await stdout.WriteLineAsync("No problem found.").ConfigureAwait(false);
            return;
        }

        await stdout.WriteLineAsync(r.Problems.Count == 1 ? "Problem" : "Problems").ConfigureAwait(false);
        bool colour = Terminal.IsInteractive(stdout);
        foreach (DoctorProblem p in r.Problems)
        {
            string label = p.Severity.ToString().ToLowerInvariant();
            if (colour)
            {
                string style = p.Severity switch { ConnectivitySeverity.Error => "red", ConnectivitySeverity.Warning => "yellow", _ => "blue" };
                AnsiConsole.MarkupLine($"  [{style}]{label}[/]: {Markup.Escape(p.Message)}");
            }
            else
            {
                await stdout.WriteLineAsync($"  {label}: {p.Message}").ConfigureAwait(false);
            }
        }
    }

    private static string Limit(DoctorLimit l) => l.Name == "MaxStreamMemory"
        ? $"memory {ByteSize.Format(l.Held)} of {ByteSize.Format(l.Limit)}"
        : $"{Words(l.Name)} {l.Held} of {l.Limit}";

    /// <summary>"MaxInboundStreams" as "inbound streams".</summary>
    private static string Words(string limit) => System.Text.RegularExpressions.Regex.Replace(limit["Max".Length..], "(?<=.)([A-Z])", " $1").ToLowerInvariant();

    /// <summary>What strangers' SYNs cost: the half-open table against its limit, SYNs refused, answer bytes against SYN bytes.</summary>
    private static string Syns(DoctorUtp u)
        => $"{u.SynsReceived} received, {u.SynsRefused} refused (table full); half-open {u.HalfOpen} of {u.MaxHalfOpen}, at most {u.HalfOpenPeak} so far, "
            + $"{u.MaxHalfOpenPerAddress} per address; answers {ByteSize.Format(u.SynAnswerBytes)} for {ByteSize.Format(u.SynBytes)} of SYNs";

    private static string Join(IReadOnlyList<string> endPoints) => endPoints.Count == 0 ? "none" : string.Join(", ", endPoints);

    private static string Mapping(DoctorPortMapping m, DateTimeOffset now)
    {
        if (!m.Enabled)
        {
            return "off (loopback, or turned off)";
        }

        string error = m.LastError is null ? "" : $"; last problem: {m.LastError}";
        if (m.Protocol == PortMappingProtocol.None)
        {
            return $"none yet{(m.Gateway is null ? "" : $" (gateway {m.Gateway})")}{error}";
        }

        string protocol = m.Protocol switch
        {
            PortMappingProtocol.Pcp => "PCP",
            PortMappingProtocol.NatPmp => "NAT-PMP",
            _ => "UPnP IGD",
        };
        string lease = m.ExpiresAt is { } expires ? $", lease {Age(expires - now)} left" : ", permanent";
        return $"{protocol} via {m.Gateway}: {m.ExternalAddress} TCP {m.ExternalTcpPort}, UDP {m.ExternalUdpPort}{lease}{error}";
    }

    private static string Source(DoctorExternalAddress a) => a.Source switch
    {
        ExternalAddressSource.PortMapping => "from the router (port mapping)",
        ExternalAddressSource.Dht => "from DHT nodes (BEP 42)",
        ExternalAddressSource.Tracker => $"from {Count.Of(a.Reports, "tracker")} (BEP 24 external ip)",
        _ => $"from {Count.Of(a.Reports, "peer")} (BEP 10 yourip)",
    };

    private static string Inbound(DoctorInbound i, DateTimeOffset now)
    {
        if (i.Last is not { } last)
        {
            return "none yet";
        }

        string internet = i.LastFromInternet is { } t ? $"{Ago(now - t)} from the internet" : "none from the internet";
        return $"{i.IPv4 + i.IPv6} (IPv4 {i.IPv4}, IPv6 {i.IPv6}); last {Ago(now - last)}, {internet}";
    }

    private static string Dht(DoctorDht? d, DateTimeOffset now)
    {
        if (d is null)
        {
            return "off";
        }

        string state = d.Bootstrap switch
        {
            DhtBootstrapState.Joined => "joined",
            DhtBootstrapState.NobodyAnswered => "nobody answered the bootstrap",
            DhtBootstrapState.Running => "joining",
            _ => "not started",
        };
        string lookup = d.LastLookupAnswered is { } t ? $"last lookup answered {Ago(now - t)}" : "no lookup answered yet";
        return $"{Count.Of(d.Nodes, "node")} ({d.GoodNodes} good), {state}, {lookup}";
    }

    private static string Ago(TimeSpan span) => $"{Age(span)} ago";

    private static string Age(TimeSpan span)
    {
        span = span < TimeSpan.Zero ? TimeSpan.Zero : span;
        return span.TotalSeconds < 90 ? $"{span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s"
            : span.TotalMinutes < 90 ? $"{span.TotalMinutes.ToString("0", CultureInfo.InvariantCulture)} min"
            : $"{span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h";
    }
}
