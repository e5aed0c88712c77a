using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace PeerNet.Daemon.Metrics;

/// <summary>
/// <c>/metrics</c>: every instrument of the node (meter <see cref="PeerNetNode.MeterName"/>), the daemon's per-torrent
/// and node series (<see cref="TorrentMetrics"/>) and ASP.NET Core's request durations, in Prometheus' text format
/// through OpenTelemetry's exporter, which names them by Prometheus' conventions (<c>peernet_transfer_downloaded_bytes_total</c>).
/// Behind the API's gate: an allowed Host header and <c>Authorization: Bearer &lt;token&gt;</c>, as Prometheus'
/// <c>authorization: { credentials_file: &lt;state&gt;/api-token }</c> sends it.
/// </summary>
internal static class MetricsEndpoint
{
    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    /// <summary>The meters exported.</summary>
    public static readonly string[] Meters = [PeerNetNode.MeterName, TorrentMetrics.MeterName, "Microsoft.AspNetCore.Hosting"];

    /// <summary>Registers the meters and the exporter; throws <see cref="OptionsValidationException"/> for unusable <c>Metrics</c> settings.</summary>
    public static void AddPeerNetMetrics(this WebApplicationBuilder builder)
    {
        IConfigurationSection section = builder.Configuration.GetSection("Metrics");
        var settings = new MetricsSettings();
        section.Bind(settings);
        string[] problems = [.. settings.Validate()];
        if (problems.Length > 0)
        {
            throw new OptionsValidationException(nameof(MetricsSettings), typeof(MetricsSettings), problems);
        }

        builder.Services.Configure<MetricsSettings>(section);
        builder.Services.AddSingleton<TorrentMetrics>();
        string version = typeof(PeerNetNode).Assembly.GetName().Version?.ToString() ?? "unknown";
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.Clear().AddService("peernet", serviceVersion: version, autoGenerateServiceInstanceId: false))
            .WithMetrics(m =>
            {
                m.AddMeter(Meters).AddPrometheusExporter(o => o.ScrapeEndpointPath = Path);
                ((IDeferredMeterProviderBuilder)m).Configure((services, metrics) =>
                {
                    // OpenTelemetry listens to meters by name, process-wide: this daemon's own (made by its IMeterFactory)
                    // only, not another node's or another host's in the same process (tests run several).
                    // Each stream preallocates its cardinality limit's points (OpenTelemetry's default, 2,000 of ~70 bytes,
                    // was 5 MB over these streams): a per-torrent stream needs a few per listed torrent (its state is a
                    // tag, so a torrent may leave a series per state), the engine's own a handful of tag values each.
                    IMeterFactory own = services.GetRequiredService<IMeterFactory>();
                    var perTorrent = new MetricStreamConfiguration { CardinalityLimit = (settings.PerTorrentLimit * 8) + 64 };
                    var engine = new MetricStreamConfiguration { CardinalityLimit = 256 };
                    metrics.AddView(instrument => !ReferenceEquals(instrument.Meter.Scope, own) ? MetricStreamConfiguration.Drop
                        : instrument.Name.StartsWith(TorrentMetrics.PerTorrentPrefix, StringComparison.Ordinal) ? perTorrent : engine);
                });
            });
    }

    /// <summary>Maps the scrape endpoint (after the API's gate, which guards it).</summary>
    public static void MapPeerNetMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<TorrentMetrics>(); // its instruments exist from the start
        app.MapPrometheusScrapingEndpoint(Path).ExcludeFromDescription();
    }
}
