using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using PeerNet.Daemon.Api;
using PeerNet.Daemon.Service;

namespace PeerNet.Daemon.Transmission;

/// <summary>
/// Transmission's RPC at <c>/transmission/rpc</c> (what <c>transmission-remote</c>, Transmission's GUIs and their
/// libraries speak): a JSON request <c>{method, arguments, tag}</c> answered by <c>{result, arguments, tag}</c>, where
/// <c>result</c> is <c>"success"</c> or the error in words. The methods are in <see cref="TransmissionMethods"/>.
/// </summary>
/// <remarks>
/// <para>
/// The gate, in Transmission's order. First the daemon-wide one (<see cref="ApiSecurity"/>, before any endpoint): the
/// Host allow-list and the body limit. Then HTTP Basic authentication with the API token as the password (any user
/// name): no credentials get a 401 challenge at once (curl, and so transmission-remote, sends them only after one);
/// wrong credentials count as a failed login and are answered slowly, as a wrong bearer token is.
/// </para>
/// <para>
/// Then the <c>X-Transmission-Session-Id</c> handshake, which is this path's CSRF defence: a browser remembers Basic
/// credentials and would send them with a form a hostile page posts here (a "simple" cross-site request needs no CORS
/// preflight), so credentials alone prove nothing. A request without this run's random session id gets a 409 carrying
/// it in that header; a real client reads it and sends it again. A cross-site page cannot read a response header of
/// another origin (this daemon allows no CORS), so it never learns the id, and its requests all end at the 409.
/// </para>
/// </remarks>
internal sealed partial class TransmissionRpc
{
    /// <summary>The header that carries the session id (transmission-remote matches its spelling exactly).</summary>
    public const string SessionIdHeader = "X-Transmission-Session-Id";

    private readonly ApiSecurity _security;
    private readonly TransmissionMethods _methods;
    private readonly ILogger _logger;
    private readonly byte[] _sessionId;

    public TransmissionRpc(ApiSecurity security, TransmissionMethods methods, ILogger logger)
    {
        _security = security;
        _methods = methods;
        _logger = logger;
        _sessionId = Encoding.ASCII.GetBytes(SessionId);
    }

    /// <summary>This run's session id: random, made at start, the same for every client until the daemon stops.</summary>
    public string SessionId => _methods.SessionId;

    /// <summary>The request handler.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        HttpResponse response = context.Response;
        response.Headers.CacheControl = "no-store";
        switch (Authenticate(context.Request))
        {
            case Credentials.Missing:
                await ChallengeAsync(response);
                return;
            case Credentials.Wrong:
                await _security.FailedLoginAsync(context);
                await ChallengeAsync(response);
                return;
        }

        response.Headers[SessionIdHeader] = SessionId; // on every answer to a client that logged in, as Transmission does

        string? sent = context.Request.Headers[SessionIdHeader];
        if (sent is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(sent), _sessionId))
        {
            response.StatusCode = StatusCodes.Status409Conflict;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync($"409: Conflict. Send the header '{SessionIdHeader}: {SessionId}' (from this answer's headers) with every request.\n", context.RequestAborted);
            return;
        }

        JsonDocument request;
        try
        {
            request = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 16 }, context.RequestAborted);
        }
        catch (JsonException e)
        {
            await WriteAsync(response, StatusCodes.Status400BadRequest, "malformed JSON: " + DisplayText.Sanitize(e.Message, 300), default, null);
            return;
        }

        using (request)
        {
            JsonElement root = request.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                await WriteAsync(response, StatusCodes.Status400BadRequest, "malformed request: a JSON object {method, arguments, tag} was expected", default, null);
                return;
            }

            JsonElement? tag = root.TryGetProperty("tag", out JsonElement t) && t.ValueKind == JsonValueKind.Number ? t : null;
            JsonElement arguments = root.TryGetProperty("arguments", out JsonElement a) && a.ValueKind == JsonValueKind.Object ? a : default;
            if (!root.TryGetProperty("method", out JsonElement m) || m.ValueKind != JsonValueKind.String)
            {
                await WriteAsync(response, StatusCodes.Status200OK, "no method name", default, tag);
                return;
            }

            string method = m.GetString()!;
            var buffer = new ArrayBufferWriter<byte>();
            string result = "success";
            await using (var writer = new Utf8JsonWriter(buffer))
            {
                try
                {
                    writer.WriteStartObject();
                    await _methods.InvokeAsync(method, new RpcArguments(arguments), writer, context.RequestAborted);
                    writer.WriteEndObject();
                }
                catch (RpcException e)
                {
                    result = e.Message;
                }
            }

            await WriteAsync(response, StatusCodes.Status200OK, result, result == "success" ? buffer.WrittenMemory : default, tag);
            if (result != "success")
            {
                string shown = DisplayText.Sanitize(method, 64);
                LogRefused(_logger, shown, result);
            }
        }
    }

    private enum Credentials
    {
        Missing,
        Wrong,
        Right,
    }

    /// <summary>Basic with the token as the password (any user); a bearer token is taken too.</summary>
    private Credentials Authenticate(HttpRequest request)
    {
        string? header = request.Headers.Authorization;
        if (string.IsNullOrWhiteSpace(header))
        {
            return Credentials.Missing;
        }

        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return _security.IsToken(header[7..].Trim()) ? Credentials.Right : Credentials.Wrong;
        }

        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return Credentials.Wrong;
        }

        try
        {
            string decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
            int colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 && _security.IsToken(decoded[(colon + 1)..]) ? Credentials.Right : Credentials.Wrong;
        }
        catch (FormatException)
        {
            return Credentials.Wrong;
        }
    }

    private static async Task ChallengeAsync(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = "Basic realm=\"PeerNet\", charset=\"UTF-8\"";
        response.ContentType = "text/plain; charset=utf-8";
        await response.WriteAsync("401: Unauthorized. Log in with any user name and the API token (the state folder's api-token file) as the password.\n", response.HttpContext.RequestAborted);
    }

    /// <summary>Writes <c>{"arguments": ..., "result": ..., "tag": ...}</c>.</summary>
    private static async Task WriteAsync(HttpResponse response, int status, string result, ReadOnlyMemory<byte> arguments, JsonElement? tag)
    {
        response.StatusCode = status;
        response.ContentType = "application/json; charset=UTF-8";
        var body = new ArrayBufferWriter<byte>();
        await using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("arguments");
            if (arguments.IsEmpty)
            {
                writer.WriteStartObject();
                writer.WriteEndObject();
            }
            else
            {
                writer.WriteRawValue(arguments.Span, skipInputValidation: true);
            }

            writer.WriteString("result", result);
            if (tag is { } t)
            {
                writer.WritePropertyName("tag");
                t.WriteTo(writer);
            }

            writer.WriteEndObject();
        }

        await response.Body.WriteAsync(body.WrittenMemory, response.HttpContext.RequestAborted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Transmission RPC {Method} refused: {Result}")]
    private static partial void LogRefused(ILogger logger, string method, string result);
}

/// <summary>An RPC-level refusal: its message becomes the answer's <c>result</c> (the HTTP status stays 200, as in Transmission).</summary>
internal sealed class RpcException : Exception
{
    public RpcException(string message)
        : base(message)
    {
    }

    public RpcException()
    {
    }

    public RpcException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Maps the RPC into the daemon: one call from <c>PeerNetDaemon.Build</c>.</summary>
internal static class TransmissionEndpoints
{
    /// <summary>The path, as Transmission serves it (transmission-remote posts to it with a trailing slash, which routing ignores).</summary>
    public const string Path = "/transmission/rpc";

    public static void MapTransmissionRpc(this WebApplication app, ApiSecurity security)
    {
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PeerNet.Daemon.Transmission");
        var methods = new TransmissionMethods(app.Services.GetRequiredService<NodeService>(), app.Services.GetRequiredService<RuntimeSettings>(), app.Services.GetRequiredService<DaemonState>(), app.Lifetime, logger);
        var rpc = new TransmissionRpc(security, methods, logger);
        app.MapPost(Path, rpc.HandleAsync).ExcludeFromDescription(); // routing takes "/transmission/rpc/" too
    }
}
