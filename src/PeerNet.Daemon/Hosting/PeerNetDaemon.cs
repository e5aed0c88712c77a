using System.Net;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PeerNet.Daemon.Api;
using PeerNet.Daemon.Dashboard;
using PeerNet.Daemon.Metrics;
using PeerNet.Daemon.Persistence;
using PeerNet.Daemon.Service;
using PeerNet.Daemon.Transmission;
using Scalar.AspNetCore;

namespace PeerNet.Daemon.Hosting;

/// <summary>What <c>peernet daemon</c> was started with: each null falls back to the settings file, then the defaults.</summary>
/// <param name="StateFolder">The state folder (<c>--state</c>); null for <c>$XDG_DATA_HOME/peernet</c>, else <c>~/.local/share/peernet</c>.</param>
/// <param name="ConfigFile">The settings file (<c>--config</c>); null for <c>settings.json</c> in the state folder, if there is one.</param>
/// <param name="Api">The API's address and port (<c>--api ADDRESS:PORT</c>).</param>
/// <param name="Port">The node's port for peers (<c>--port</c>).</param>
public sealed record DaemonLaunch(string? StateFolder = null, string? ConfigFile = null, IPEndPoint? Api = null, int? Port = null)
{
    /// <summary>Settings set in code, last (tests use it: a free port, no DHT); keys as in the settings file, <c>Node:Dht</c>.</summary>
    public IReadOnlyDictionary<string, string?>? Overrides { get; init; }
}

/// <summary>
/// <c>peernet daemon</c>: a PeerNet node that stays up, keeps its torrents across restarts, and is steered through an
/// authenticated REST API (<c>/api/v1</c>, described at <c>/openapi/v1.json</c> and browsable at <c>/scalar</c>).
/// A .NET generic host: Kestrel, options validated at start, logging, and a graceful stop on SIGTERM or Ctrl+C.
/// </summary>
public static partial class PeerNetDaemon
{
    /// <summary>How long a stop may take (torrents' resume data, trackers' stopped announces, open event streams).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Runs the daemon until SIGTERM, SIGINT or <paramref name="cancellationToken"/>; returns once it has stopped.</summary>
    public static async Task RunAsync(DaemonLaunch launch, CancellationToken cancellationToken = default)
    {
        await using WebApplication app = Build(launch);
        await app.StartAsync(cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken); // SIGTERM, SIGINT, or the token: then a stop within ShutdownTimeout
    }

    /// <summary>
    /// The daemon, built but not started: its settings read and validated (an <see cref="OptionsValidationException"/>
    /// names every problem), its state folder and token made.
    /// </summary>
    public static WebApplication Build(DaemonLaunch launch)
    {
        ArgumentNullException.ThrowIfNull(launch);
        var state = new DaemonState(launch.StateFolder ?? DaemonState.DefaultFolder());
        state.Create();

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = state.Folder });

        // The daemon's own configuration only: no appsettings.json, ASPNETCORE_ or DOTNET_ variables from the host.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning", // a line per request is for debugging, not for a daemon's log
        });
        string? configFile = launch.ConfigFile is null ? state.SettingsFile : Path.GetFullPath(launch.ConfigFile);
        builder.Configuration.AddJsonFile(configFile, optional: launch.ConfigFile is null, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("PEERNET_");
        builder.Configuration.AddInMemoryCollection(CommandLineSettings(launch));
        if (launch.Overrides is { } overrides)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        var settings = new DaemonSettings();
        builder.Configuration.Bind(settings);
        IReadOnlyList<string> problems = settings.Validate();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(nameof(DaemonSettings), typeof(DaemonSettings), problems);
        }

        builder.Services.AddOptions<DaemonSettings>().Bind(builder.Configuration).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DaemonSettings>, SettingsValidator>();
        builder.Services.AddSingleton(state);
        builder.Services.AddSingleton<NodeService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeService>());
        var metricsSettings = new MetricsSettings();
        builder.Configuration.GetSection("Metrics").Bind(metricsSettings);
        var watchSettings = new Watch.WatchSettings();
        builder.Configuration.GetSection("Torrents").Bind(watchSettings);
        builder.Services.AddSingleton(sp => new RuntimeSettings(
            configFile, sp.GetRequiredService<IOptions<DaemonSettings>>().Value, sp.GetRequiredService<NodeService>(), [("metrics", metricsSettings), ("torrents", watchSettings)]));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddOpenApi();
        builder.AddPeerNetMetrics();
        Watch.WatchFolderService.AddWatchFolder(builder);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter());
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        builder.Services.Configure<FormOptions>(o =>
        {
            o.MultipartBodyLengthLimit = settings.Api.MaxRequestBodyBytes;
            o.ValueCountLimit = 64;
        });

        var apiAddress = IPAddress.Parse(settings.Api.Address);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(apiAddress, settings.Api.Port);
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = settings.Api.MaxRequestBodyBytes;
            k.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            k.Limits.MaxConcurrentConnections = 256;
        });

        string token = state.LoadOrCreateToken(settings.Api.Token);
        WebApplication app = builder.Build();
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PeerNet.Daemon");
        if (!IPAddress.IsLoopback(apiAddress))
        {
            LogExposed(logger, settings.Api.Address);
        }

        var sessions = new DashboardSessions();
        var security = new ApiSecurity(token, [.. ApiSecurity.DefaultHosts(apiAddress), .. settings.Api.AllowedHosts], settings.Api.MaxRequestBodyBytes, logger, sessions,
            new BodyLimit(HttpMethods.Post, StorageEndpoints.FilesPath, settings.Storage.MaxUploadBytes + StorageEndpoints.MultipartOverhead, "Storage:MaxUpload"));
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(security.InvokeAsync);
        app.MapOpenApi();
        app.MapScalarApiReference(o => o.WithTitle("PeerNet daemon API"));
        app.MapApi();
        app.MapLibp2pApi(); // /api/v1/libp2p: peers and direct messages
        app.MapStorageApi(); // /api/v1/storage: space lent, files put, upload, download, check
        app.MapTransmissionRpc(security); // /transmission/rpc: Transmission's RPC, for transmission-remote and its GUIs
        app.MapPeerNetMetrics();
        app.MapDashboard(sessions, security, state);

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "?";
            AtomicFile.Write(state.EndpointFile, System.Text.Encoding.UTF8.GetBytes(url + "\n"));
            LogListening(logger, url, state.TokenFile, url + "/scalar");
        });
        return app;
    }

    /// <summary>The command line's flags as settings keys (they win over the file and the environment).</summary>
    private static Dictionary<string, string?> CommandLineSettings(DaemonLaunch launch)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (launch.Api is { } api)
        {
            values["Api:Address"] = api.Address.ToString();
            values["Api:Port"] = api.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (launch.Port is { } port)
        {
            values["Node:ListenPort"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return values;
    }

    /// <summary>The settings' own checks, run again by the options system at start (and for any later reload).</summary>
    private sealed class SettingsValidator : IValidateOptions<DaemonSettings>
    {
        public ValidateOptionsResult Validate(string? name, DaemonSettings options)
        {
            IReadOnlyList<string> problems = options.Validate();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the API listens on {Address}, reachable from other machines: only the token in the settings file protects it")]
    private static partial void LogExposed(ILogger logger, string address);

    [LoggerMessage(Level = LogLevel.Information, Message = "API at {Url}/api/v1 (token in {TokenFile}); reference at {Docs}")]
    private static partial void LogListening(ILogger logger, string url, string tokenFile, string docs);
}
