using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Hosting;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Tests;

/// <summary>Settings are checked before anything starts, every problem named; the API leaves loopback only with a token.</summary>
public sealed class DaemonSettingsTests : IAsyncLifetime
{
    private readonly DaemonHarness _daemon = new();

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _daemon.DisposeAsync();

    [Fact]
    public void AnotherAddressThanLoopback_NeedsATokenInTheSettings()
    {
        Dictionary<string, string?> settings = DaemonHarness.LoopbackSettings();
        settings["Api:Address"] = "0.0.0.0";
        var refused = Assert.Throws<OptionsValidationException>(() => PeerNetDaemon.Build(new DaemonLaunch(_daemon.State) { Overrides = settings }));
        Assert.Contains(refused.Failures, f => f.Contains("Api:Token", StringComparison.Ordinal));

        settings["Api:Token"] = "a-token-set-by-its-owner-0123456789";
        (PeerNetDaemon.Build(new DaemonLaunch(_daemon.State) { Overrides = settings }) as IDisposable)?.Dispose(); // built, not started: nothing listens
        Assert.Equal("a-token-set-by-its-owner-0123456789", _daemon.Token);
    }

    [Fact]
    public async Task UnusableSettingsFile_StopsTheStart_NamingEveryProblem()
    {
        string config = Path.Combine(_daemon.Root, "settings.json");
        await File.WriteAllTextAsync(config, """{ "Api": { "MaxRequestBodyBytes": 5, "Token": "short" }, "Node": { "MaxConnections": 0 } }""", DaemonHarness.Ct);
        using Process child = ChildDaemon.Start(_daemon.State, "--config", config);
        await child.WaitForExitAsync(DaemonHarness.Ct).WaitAsync(TimeSpan.FromSeconds(60), DaemonHarness.Ct);
        Assert.Equal(1, child.ExitCode);
        await Poll.UntilAsync(() => ChildDaemon.Errors(child).Contains("Node:MaxConnections", StringComparison.Ordinal), "the error line is read", DaemonHarness.Timeout);
        string errors = ChildDaemon.Errors(child);
        Assert.Contains("Api:MaxRequestBodyBytes", errors, StringComparison.Ordinal);
        Assert.Contains("Api:Token", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectivitySettings_BindFromTheSettingsFile_AsTheCliFlagsWords()
    {
        string config = Path.Combine(_daemon.Root, "settings.json");
        await File.WriteAllTextAsync(config, """
            { "Node": { "Encryption": "Disabled", "EncryptionLevel": "plaintext", "PreferRc4": true, "Utp": "only", "PortMapping": "natpmp, UPnP", "Holepunch": false } }
            """, DaemonHarness.Ct);
        WebApplication app = PeerNetDaemon.Build(new DaemonLaunch(_daemon.State, config) { Overrides = DaemonHarness.LoopbackSettings() });
        try
        {
            NodeSettings node = app.Services.GetRequiredService<IOptions<DaemonSettings>>().Value.Node;
            Assert.Equal(new EncryptionOptions { Policy = EncryptionPolicy.Disabled, Level = EncryptionLevel.Plaintext, PreferRc4 = true }, node.EncryptionOptions());
            (UtpOptions utp, bool outgoingTcp) = node.UtpOptions();
            Assert.True(utp.Outgoing);
            Assert.True(utp.Incoming);
            Assert.False(outgoingTcp);
            Assert.Equal(PortMappingOptions.None with { NatPmp = true, Upnp = true }, node.PortMappingOptions());
            Assert.False(node.Holepunch);
        }
        finally
        {
            await app.DisposeAsync();
        }

        // Left out, each is the CLI's default (and the library's).
        var defaults = new NodeSettings();
        Assert.Equal(new EncryptionOptions(), defaults.EncryptionOptions());
        Assert.Equal((new UtpOptions(), true), defaults.UtpOptions());
        Assert.Equal(new PortMappingOptions(), defaults.PortMappingOptions());
        Assert.True(defaults.Holepunch);
        Assert.Equal(PortMappingOptions.None, new NodeSettings { PortMapping = "None" }.PortMappingOptions());
        Assert.Equal((new UtpOptions { Outgoing = false }, true), new NodeSettings { Utp = "accept" }.UtpOptions());
    }

    [Fact]
    public void UnknownConnectivityWords_AreRefused_NamingTheSettingAndTheWordsItTakes()
    {
        Dictionary<string, string?> settings = DaemonHarness.LoopbackSettings();
        settings["Node:Encryption"] = "required"; // Transmission's word, not PeerNet's
        settings["Node:EncryptionLevel"] = "2"; // a number is not a name
        settings["Node:Utp"] = "sometimes";
        settings["Node:PortMapping"] = "pcp,ssdp";
        var refused = Assert.Throws<OptionsValidationException>(() => PeerNetDaemon.Build(new DaemonLaunch(_daemon.State) { Overrides = settings }));
        Assert.Contains("Node:Encryption 'required' is not a policy: give disabled, enabled or forced", refused.Failures);
        Assert.Contains("Node:EncryptionLevel '2' is not a level: give plaintext, rc4 or both", refused.Failures);
        Assert.Contains("Node:Utp 'sometimes' is not a uTP mode: give accept, on, off or only", refused.Failures);
        Assert.Contains("Node:PortMapping 'ssdp' is not a port mapping protocol: give a comma-separated list of pcp, natpmp and upnp, or none", refused.Failures);
    }

    [Fact]
    public async Task ConnectivitySettings_FromEnvironmentVariables_RunTheNode_AndABadOneStopsTheStart()
    {
        using (Process bad = ChildDaemon.Start(new Dictionary<string, string> { ["PEERNET_Node__Utp"] = "udp" }, _daemon.State))
        {
            await bad.WaitForExitAsync(DaemonHarness.Ct).WaitAsync(TimeSpan.FromSeconds(60), DaemonHarness.Ct);
            Assert.Equal(1, bad.ExitCode);
            await Poll.UntilAsync(() => ChildDaemon.Errors(bad).Contains("Node:Utp 'udp'", StringComparison.Ordinal), "the error names the setting", DaemonHarness.Timeout);
        }

        using Process child = ChildDaemon.Start(
            new Dictionary<string, string> { ["PEERNET_Node__Encryption"] = "forced", ["PEERNET_Node__Utp"] = "off", ["PEERNET_Node__PortMapping"] = "pcp", ["PEERNET_Node__Holepunch"] = "false" },
            _daemon.State);
        try
        {
            string endpointFile = Path.Combine(_daemon.State, "api-endpoint");
            await Poll.UntilAsync(() => File.Exists(endpointFile) || child.HasExited, "the child daemon writes api-endpoint", TimeSpan.FromSeconds(60));
            Assert.False(child.HasExited, ChildDaemon.Errors(child));
            using var client = new HttpClient { BaseAddress = new Uri((await File.ReadAllTextAsync(endpointFile, DaemonHarness.Ct)).Trim()), Timeout = DaemonHarness.Timeout };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _daemon.Token);
            JsonElement node = JsonDocument.Parse(await client.GetStringAsync("api/v1/settings", DaemonHarness.Ct)).RootElement.GetProperty("node");
            Assert.Equal("forced", node.GetProperty("encryption").GetString());
            Assert.Equal("off", node.GetProperty("utp").GetString());
            Assert.Equal("pcp", node.GetProperty("portMapping").GetString());
            Assert.False(node.GetProperty("holepunch").GetBoolean());
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
                await child.WaitForExitAsync(DaemonHarness.Ct);
            }
        }
    }

    [Fact]
    public void Readme_NamesEverySetting()
    {
        string? folder = AppContext.BaseDirectory;
        while (folder is not null && !File.Exists(Path.Combine(folder, "PeerNet.slnx")))
        {
            folder = Path.GetDirectoryName(folder);
        }

        Assert.NotNull(folder);
        string readme = File.ReadAllText(Path.Combine(folder, "README.md"));
        string[] missing =
        [
            .. new[] { typeof(NodeSettings), typeof(ApiSettings), typeof(TorrentSettings), typeof(StorageSettings) }
                .SelectMany(t => t.GetProperties())
                .Where(p => !p.IsDefined(typeof(System.Text.Json.Serialization.JsonIgnoreAttribute), inherit: false))
                .Select(p => p.Name)
                .Where(name => !readme.Contains($"`{name}`", StringComparison.Ordinal)),
        ];
        Assert.True(missing.Length == 0, "README's Settings paragraph does not name: " + string.Join(", ", missing));
    }
}
