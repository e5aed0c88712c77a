using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Logging;
using PeerNet.Swarm;
using PeerNet.Transport;

namespace PeerNet.Cli.Commands;

/// <summary>Builds and starts the TCP session the swarm verbs share.</summary>
internal static class SessionFactory
{
    public static async Task<SwarmSession> StartAsync(ParseResult parseResult, PeerOptions options, CancellationToken cancellationToken)
    {
        string? bind = parseResult.GetValue(options.Bind);
        IPAddress address = IPAddress.IPv6Any;
        if (bind is not null && !IPAddress.TryParse(bind, out address!))
        {
            throw new ArgumentException($"'{bind}' is not an IP address.");
        }

        var sessionOptions = new SessionOptions
        {
            ListenEndPoint = new IPEndPoint(address, parseResult.GetValue(options.Port)),
            UploadRateLimit = parseResult.GetValue(options.UploadLimit),
            DownloadRateLimit = parseResult.GetValue(options.DownloadLimit),
            LoggerFactory = parseResult.GetValue(options.Verbose) ? new StderrLoggerFactory(parseResult.InvocationConfiguration.Error, LogLevel.Debug) : null,
        };
        return await StartAsync(sessionOptions, new TcpTransport(new TcpTransportOptions(), sessionOptions.Time), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a session over <paramref name="transport"/>; on failure, the session is disposed (the transport is the caller's).</summary>
    public static async Task<SwarmSession> StartAsync(SessionOptions sessionOptions, TcpTransport transport, CancellationToken cancellationToken)
    {
        var session = new SwarmSession(sessionOptions, transport);
        try
        {
            await session.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return session;
    }
}
