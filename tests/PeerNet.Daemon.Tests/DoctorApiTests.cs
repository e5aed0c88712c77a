using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PeerNet.Cli;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Tests;

/// <summary><c>GET /api/v1/node/doctor</c>: the node's connectivity report as JSON, described in the OpenAPI document, and <c>peernet doctor --daemon</c> reading it.</summary>
public sealed class DoctorApiTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    private static CancellationToken Ct => DaemonHarness.Ct;

    [Fact]
    public async Task Doctor_ReportsListenersInboundAndProblems_AndTheCliShowsIt()
    {
        await _daemon.StartAsync();
        int port = _daemon.App!.Services.GetRequiredService<NodeService>().Node.ListenPort;

        JsonElement report = await _daemon.GetJsonAsync("api/v1/node/doctor");
        Assert.Equal(port, report.GetProperty("listenPort").GetInt32());
        Assert.Equal($"127.0.0.1:{port}", report.GetProperty("tcp")[0].GetString());
        Assert.Equal(0, report.GetProperty("inboundTcp").GetProperty("ipv4").GetInt64());
        Assert.True(IsNull(report.GetProperty("inboundTcp"), "last"));
        Assert.False(report.GetProperty("portMapping").GetProperty("enabled").GetBoolean());
        Assert.Equal("None", report.GetProperty("portMapping").GetProperty("protocol").GetString());
        string[] kinds = [.. report.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("kind").GetString()!)];
        Assert.Contains("LoopbackOnly", kinds);
        Assert.All(report.GetProperty("problems").EnumerateArray(), p => Assert.False(string.IsNullOrEmpty(p.GetProperty("message").GetString())));

        // A connection to the node's port is an inbound TCP connection, from loopback (not from the internet).
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port, Ct).AsTask().WaitAsync(DaemonHarness.Timeout, Ct);
            await DaemonHarness.UntilAsync(
                async () => (await _daemon.GetJsonAsync("api/v1/node/doctor")).GetProperty("inboundTcp").GetProperty("ipv4").GetInt64() == 1,
                "the inbound TCP connection counted");
        }

        JsonElement inbound = (await _daemon.GetJsonAsync("api/v1/node/doctor")).GetProperty("inboundTcp");
        Assert.False(IsNull(inbound, "last"));
        Assert.True(IsNull(inbound, "lastFromInternet"));

        // The CLI reads the same report from the daemon: JSON as the API gives it, or text.
        (int exit, string output, string error) = await CliAsync("doctor", "--daemon", "--json", "--state", _daemon.State);
        Assert.True(exit == 0, error);
        JsonElement cli = JsonDocument.Parse(output).RootElement;
        Assert.Equal(port, cli.GetProperty("listenPort").GetInt32());
        Assert.Equal(1, cli.GetProperty("inboundTcp").GetProperty("ipv4").GetInt64());

        (exit, output, error) = await CliAsync("doctor", "--daemon", "--state", _daemon.State);
        Assert.True(exit == 0, error);
        Assert.Matches($@"(?m)^  TCP +127\.0\.0\.1:{port}$", output);
        Assert.Matches(@"(?m)^  TCP +1 \(IPv4 1, IPv6 0\); last \d+ s ago, none from the internet$", output);
        Assert.Contains("  error: The node listens on 127.0.0.1 only", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Libp2pLimits_FromTheSettings_AndTheirRefusals_ShowInResourcesDoctorAndTheCli()
    {
        await _daemon.StartAsync(new Dictionary<string, string?>
        {
            ["Node:Libp2pLimits:MaxInboundStreams"] = "77",
            ["Node:Libp2pLimits:MaxInboundStreamsPerPeer"] = "4",
        });
        JsonElement resources = await _daemon.GetJsonAsync("api/v1/libp2p/resources");
        JsonElement inbound = resources.GetProperty("limits").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "MaxInboundStreams");
        Assert.Equal(77, inbound.GetProperty("limit").GetInt64());
        Assert.Empty(resources.GetProperty("refused").EnumerateObject());
        Assert.Equal(0, resources.GetProperty("peerCount").GetInt32());

        // A peer that holds more ping streams open than the per-peer limit allows: the daemon resets those over it.
        await using PeerNetNode peer = await PeerNetNode.StartAsync(
            new PeerNetNodeOptions { ListenAddress = System.Net.IPAddress.Loopback, ListenPort = 0, Dht = false, LocalDiscovery = false, Trackers = false },
            cancellationToken: Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        JsonElement self = await _daemon.GetJsonAsync("api/v1/libp2p");
        Libp2p.Libp2pPeerInfo daemon = await peer.Libp2p.ConnectAsync(Libp2p.Multiaddr.Parse(self.GetProperty("listenAddresses")[0].GetString()!), Ct).WaitAsync(DaemonHarness.Timeout, Ct);
        var held = new List<Libp2p.Libp2pStream>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                try
                {
                    held.Add(await peer.Libp2p.OpenStreamAsync(daemon.PeerId, "/ipfs/ping/1.0.0", Ct).WaitAsync(DaemonHarness.Timeout, Ct));
                }
                catch (Exception e) when (e is not OperationCanceledException and not TimeoutException)
                {
                    // reset by the daemon: over its limit
                }
            }

            await DaemonHarness.UntilAsync(
                async () => (await _daemon.GetJsonAsync("api/v1/libp2p/resources")).GetProperty("refused").TryGetProperty("MaxInboundStreamsPerPeer", out _),
                "the daemon counts the streams it refused");
            resources = await _daemon.GetJsonAsync("api/v1/libp2p/resources");
            Assert.Equal(1, resources.GetProperty("peerCount").GetInt32());
            JsonElement atPeer = resources.GetProperty("peers").EnumerateArray().Single();
            Assert.Equal(peer.Identity.PeerId.ToString(), atPeer.GetProperty("name").GetString());
            Assert.InRange(atPeer.GetProperty("inboundStreams").GetInt32(), 1, 4);
            Assert.Contains(resources.GetProperty("protocols").EnumerateArray(), p => p.GetProperty("name").GetString() == "/ipfs/ping/1.0.0");

            JsonElement report = await _daemon.GetJsonAsync("api/v1/node/doctor");
            Assert.True(report.GetProperty("libp2pResources").GetProperty("refused").GetProperty("MaxInboundStreamsPerPeer").GetInt64() >= 1);
            Assert.Contains(report.GetProperty("problems").EnumerateArray(), p => p.GetProperty("kind").GetString() == "Libp2pLimitRefused");

            (int exit, string output, string error) = await CliAsync("doctor", "--daemon", "--state", _daemon.State);
            Assert.True(exit == 0, error);
            Assert.Matches(@"(?m)^  limits +connections 1 of 128, inbound connections 1 of \d+, .*inbound streams \d+ of 77, .*memory ", output);
            Assert.Matches(@"(?m)^  refused +MaxInboundStreamsPerPeer \d+$", output);
            Assert.Contains("libp2p refused ", output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (Libp2p.Libp2pStream stream in held)
            {
                await stream.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task OpenApi_DescribesTheDoctorEndpoint()
    {
        await _daemon.StartAsync();
        using var anonymous = new HttpClient { BaseAddress = _daemon.BaseAddress };
        JsonElement operation = JsonDocument.Parse(await anonymous.GetStringAsync("openapi/v1.json", Ct)).RootElement
            .GetProperty("paths").GetProperty("/api/v1/node/doctor").GetProperty("get");
        Assert.Contains("connectivity", operation.GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Equal("Node", operation.GetProperty("tags")[0].GetString());
        Assert.True(operation.GetProperty("responses").TryGetProperty("200", out _));
    }

    /// <summary>The API leaves null members out.</summary>
    private static bool IsNull(JsonElement o, string name) => !o.TryGetProperty(name, out JsonElement v) || v.ValueKind == JsonValueKind.Null;

    private static async Task<(int Exit, string Out, string Err)> CliAsync(params string[] args)
    {
        using var stdout = new StringWriter { NewLine = "\n" };
        using var stderr = new StringWriter { NewLine = "\n" };
        int exit = await PeerNetCli.RunAsync(args, stdout, stderr, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
