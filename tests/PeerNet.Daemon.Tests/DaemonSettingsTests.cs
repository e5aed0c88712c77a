using System.Diagnostics;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Hosting;

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
}
