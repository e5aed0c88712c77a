using System.Net;
using System.Text.Json;
using PeerNet.Cli.Commands;
using PeerNet.Discovery.Dht;
using static PeerNet.Engine.Tests.Cli.CliRun;

namespace PeerNet.Engine.Tests.Cli;

/// <summary><c>peernet doctor</c> on loopback: a node started, joined to a DHT node on 127.0.0.1, and its report printed.</summary>
public sealed class DoctorCommandTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("peernet-doctor-").FullName;
    private DhtNode? _bootstrap;

    public async ValueTask InitializeAsync()
    {
        _bootstrap = new DhtNode(new DhtNodeOptions { BindEndPoint = new IPEndPoint(IPAddress.Loopback, 0), BootstrapNodes = [], RestrictRoutingAddresses = false });
        await _bootstrap.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _bootstrap!.DisposeAsync();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Json_IsTheApisShape_WithTheListenersTheJoinedDhtAndTheLoopbackProblem()
    {
        (int exit, string output, string error) = await RunAsync("doctor", "--port", "0", "--bind", "127.0.0.1", "--state", _state, "--bootstrap", _bootstrap!.LocalEndPoint.ToString(), "--wait", "20", "--json");
        Assert.True(exit == 0, error);
        JsonElement report = JsonDocument.Parse(output).RootElement;
        int port = report.GetProperty("listenPort").GetInt32();
        Assert.InRange(port, 1, 65535);
        Assert.Equal($"127.0.0.1:{port}", report.GetProperty("tcp")[0].GetString());
        Assert.Equal($"127.0.0.1:{port}", report.GetProperty("udp")[0].GetString());
        Assert.True(report.GetProperty("utpIncoming").GetBoolean());
        JsonElement utp = report.GetProperty("utp");
        Assert.Equal(128, utp.GetProperty("maxHalfOpen").GetInt32());
        Assert.Equal(8, utp.GetProperty("maxHalfOpenPerAddress").GetInt32());
        Assert.Equal(0, utp.GetProperty("synsRefused").GetInt64());
        Assert.False(report.GetProperty("portMapping").GetProperty("enabled").GetBoolean());

        JsonElement dht = report.GetProperty("dht");
        Assert.Equal("IPv4", dht.GetProperty("family").GetString());
        Assert.True(dht.GetProperty("nodes").GetInt32() >= 1, output);
        Assert.Equal("Joined", dht.GetProperty("bootstrap").GetString());
        Assert.NotEqual(JsonValueKind.Null, dht.GetProperty("lastLookupAnswered").ValueKind);
        Assert.Equal(JsonValueKind.Null, report.GetProperty("dht6").ValueKind);
        Assert.Equal(0, report.GetProperty("holepunch").GetProperty("relayed").GetInt64());
        Assert.Contains(report.GetProperty("libp2pListenAddresses").EnumerateArray(), a => a.GetString()!.StartsWith($"/ip4/127.0.0.1/tcp/{port}/p2p/", StringComparison.Ordinal));

        JsonElement problem = Assert.Single(report.GetProperty("problems").EnumerateArray());
        Assert.Equal("LoopbackOnly", problem.GetProperty("kind").GetString());
        Assert.Equal("Error", problem.GetProperty("severity").GetString());
    }

    [Fact]
    public async Task Text_ShowsEachSectionAndTheProblemWithWhatToDo()
    {
        (int exit, string output, string error) = await RunAsync("doctor", "--port", "0", "--bind", "127.0.0.1", "--state", _state, "--bootstrap", _bootstrap!.LocalEndPoint.ToString(), "--wait", "20");
        Assert.True(exit == 0, error);
        Assert.Matches(@"(?m)^  TCP +127\.0\.0\.1:\d+$", output);
        Assert.Matches(@"(?m)^Port mapping +off", output);
        Assert.Matches(@"(?m)^  TCP +none yet$", output);
        Assert.Matches(@"(?m)^  uTP SYNs +0 received, 0 refused \(table full\); half-open 0 of 128, at most 0 so far, 8 per address; answers 0 B for 0 B of SYNs$", output);
        Assert.Matches(@"(?m)^  IPv4 +\d+ nodes? \(\d+ good\), joined, last lookup answered \d+ s ago$", output);
        Assert.Matches(@"(?m)^  IPv6 +off$", output);
        Assert.Matches(@"(?m)^  holepunch +none yet$", output);
        Assert.Contains("  error: The node listens on 127.0.0.1 only, so no other machine can reach it: listen on every address (leave out --bind)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Holepunch_line_says_what_was_relayed_for_others_and_how_our_own_dials_went()
    {
        var h = new HolepunchReport
        {
            RendezvousReceived = 5,
            Relayed = 3,
            ErrorsSent = 1,
            RateLimited = 1,
            RendezvousSent = 4,
            ErrorsReceived = 2,
            ConnectsReceived = 2,
            Connected = 1,
            ConnectFailed = 1,
        };
        Assert.Equal(
            "relayed 3 of 5 asked (1 refused, 1 over the rate); asked relays 4 times (2 refused), 2 connects, 1 connected, 1 failed",
            DoctorCommand.Holepunch(h));
        Assert.Equal("none yet", DoctorCommand.Holepunch(new HolepunchReport()));
    }

    [Fact]
    public async Task A_pcp_mapping_is_named_PCP_in_the_text_and_Pcp_in_the_json()
    {
        var at = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
        PeerNet.Daemon.Api.DoctorReport report = PeerNet.Daemon.Api.DoctorReport.From(new ConnectivityReport
        {
            At = at,
            StartedAt = at.AddHours(-1),
            ListenPort = 6881,
            PortMapping = new PortMappingStatus
            {
                Enabled = true,
                Gateway = IPAddress.Parse("192.168.1.1"),
                Protocol = PortMappingProtocol.Pcp,
                ExternalAddress = IPAddress.Parse("203.0.113.5"),
                ExternalTcpPort = 6881,
                ExternalUdpPort = 6882,
                ExpiresAt = at.AddHours(2),
            },
        });
        using var text = new StringWriter();
        await PeerNet.Cli.Commands.DoctorCommand.WriteAsync(text, report);
        Assert.Contains("Port mapping     PCP via 192.168.1.1: 203.0.113.5 TCP 6881, UDP 6882, lease 2 h left", text.ToString(), StringComparison.Ordinal);
        using JsonDocument json = JsonDocument.Parse(JsonSerializer.Serialize(report, PeerNet.Daemon.Api.DoctorReport.JsonOptions));
        Assert.Equal("Pcp", json.RootElement.GetProperty("portMapping").GetProperty("protocol").GetString());
    }

    [Fact]
    public async Task A_negative_wait_is_refused()
    {
        (int exit, _, string error) = await RunAsync("doctor", "--wait", "-1");
        Assert.Equal(1, exit);
        Assert.Contains("--wait -1", error, StringComparison.Ordinal);
    }
}
