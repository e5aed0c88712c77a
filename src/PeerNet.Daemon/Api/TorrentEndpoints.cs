using System.Net.ServerSentEvents;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using PeerNet.Daemon.Service;
using PeerNet.Magnet;
using PeerNet.Metainfo;
using PeerNet.Storage;

namespace PeerNet.Daemon.Api;

/// <summary>The REST API under <c>/api/v1</c>: torrents, their peers, files and trackers, the node, and its event stream.</summary>
internal static class TorrentEndpoints
{
    /// <summary>The longest magnet link accepted.</summary>
    public const int MaxMagnetLength = 64 * 1024;

    /// <summary>The most peers one request may name.</summary>
    public const int MaxPeers = 50;

    public static void MapApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/api/v1");
        RouteGroupBuilder torrents = api.MapGroup("/torrents").WithTags("Torrents");
        torrents.MapGet("/", List).WithSummary("Every torrent of the node");
        torrents.MapPost("/", AddAsync).WithSummary("Add a torrent: a multipart upload (field 'torrent', or 'magnet'), a raw application/x-bittorrent body, or JSON {magnet | metainfo (base64)}")
            .Accepts<AddTorrentRequest>("application/json", "multipart/form-data", "application/x-bittorrent")
            .DisableAntiforgery();
        torrents.MapGet("/{id}", Get).WithSummary("One torrent (by its info-hash in hex, or its number)");
        torrents.MapDelete("/{id}", RemoveAsync).WithSummary("Remove a torrent; ?deleteData=true deletes its files too");
        torrents.MapPost("/{id}/pause", (string id, NodeService node, CancellationToken ct) => ActAsync(id, node, t => node.SetPausedAsync(t, true, ct))).WithSummary("Pause a torrent");
        torrents.MapPost("/{id}/resume", (string id, NodeService node, CancellationToken ct) => ActAsync(id, node, t => node.SetPausedAsync(t, false, ct))).WithSummary("Resume a torrent");
        torrents.MapPost("/{id}/recheck", (string id, NodeService node, CancellationToken ct) => ActAsync(id, node, t => t.RecheckAsync(ct))).WithSummary("Check every piece on disk again");
        torrents.MapGet("/{id}/peers", PeersAsync).WithSummary("A torrent's connected peers");
        torrents.MapGet("/{id}/files", FilesAsync).WithSummary("A torrent's files");
        torrents.MapGet("/{id}/trackers", Trackers).WithSummary("A torrent's trackers");
        OptionsEndpoints.Map(torrents, api);
        api.MapGet("/node", Node).WithTags("Node").WithSummary("The node: ports, totals, DHT");
        api.MapGet("/node/doctor", (NodeService node) => TypedResults.Ok(DoctorReport.From(node.Node.Diagnose()))).WithTags("Node")
            .WithSummary("The node's connectivity report (what 'peernet doctor' shows): listen addresses, port mapping, external addresses and their sources, recent inbound TCP and uTP, DHT health, libp2p, and one sentence per problem with what to do");
        api.MapGet("/events", Events).WithTags("Node").WithSummary("The node's events as Server-Sent Events");
    }

    private static Ok<TorrentDto[]> List(NodeService node) => TypedResults.Ok(node.Node.Torrents.Select(TorrentDto.From).ToArray());

    private static Results<Ok<TorrentDto>, ProblemHttpResult> Get(string id, NodeService node) =>
        node.Find(id) is { } t ? TypedResults.Ok(TorrentDto.From(t)) : Problems.NotFound(id);

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(string id, bool? deleteData, NodeService node, CancellationToken ct)
    {
        if (node.Find(id) is not { } torrent)
        {
            return Problems.NotFound(id);
        }

        try
        {
            await node.RemoveAsync(torrent, deleteData ?? false, ct);
        }
        catch (ObjectDisposedException)
        {
            return Problems.NotFound(id); // removed meanwhile
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<TorrentDto>, ProblemHttpResult>> ActAsync(string id, NodeService node, Func<TorrentHandle, Task> action)
    {
        if (node.Find(id) is not { } torrent)
        {
            return Problems.NotFound(id);
        }

        try
        {
            await action(torrent);
        }
        catch (ObjectDisposedException)
        {
            return Problems.NotFound(id); // removed meanwhile
        }

        return TypedResults.Ok(TorrentDto.From(torrent));
    }

    private static async Task<Results<Ok<PeerDto[]>, ProblemHttpResult>> PeersAsync(string id, NodeService node, CancellationToken ct) =>
        node.Find(id) is { } t ? TypedResults.Ok((await t.GetPeersAsync(ct)).Select(PeerDto.From).ToArray()) : Problems.NotFound(id);

    private static async Task<Results<Ok<FileDto[]>, ProblemHttpResult>> FilesAsync(string id, NodeService node, CancellationToken ct) =>
        node.Find(id) is { } t ? TypedResults.Ok((await t.GetFilesAsync(ct)).Select(FileDto.From).ToArray()) : Problems.NotFound(id);

    private static Results<Ok<TrackerDto[]>, ProblemHttpResult> Trackers(string id, NodeService node) =>
        node.Find(id) is { } t ? TypedResults.Ok(t.GetTrackers().Select(TrackerDto.From).ToArray()) : Problems.NotFound(id);

    private static Ok<NodeDto> Node(NodeService service, DaemonState state)
    {
        PeerNetNode node = service.Node;
        NodeStatus s = node.GetStatus();
        DhtDto? dht = node.Dht is { } d ? DhtDto.Of(d) : null; // IPv6 for a node bound to an IPv6 address alone
        DhtDto? dht6 = node.Dht6 is { } d6 ? DhtDto.Of(d6) : null; // beside it on a node bound to both families
        return TypedResults.Ok(new NodeDto(
            typeof(PeerNetNode).Assembly.GetName().Version?.ToString() ?? "?",
            s.ListenPort,
            node.LocalEndPoint.Address.ToString(),
            s.Connections,
            s.Torrents,
            s.DownloadRate,
            s.UploadRate,
            s.Downloaded,
            s.Uploaded,
            dht,
            dht6,
            node.Options.LocalDiscovery,
            node.Options.Trackers,
            state.Folder,
            service.DownloadFolder));
    }

    private static ServerSentEventsResult<EventDto> Events(NodeService node, IHostApplicationLifetime lifetime, CancellationToken ct)
    {
        return TypedResults.ServerSentEvents(Stream(node, lifetime.ApplicationStopping, ct));

        static async IAsyncEnumerable<SseItem<EventDto>> Stream(NodeService service, CancellationToken stopping, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
        {
            // Ends when the client goes, or the daemon stops (which would otherwise wait for the client).
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, ct);

            // The node's events and the messages of the topics joined, merged. The node's are waited for (a slow client
            // makes the node's watcher drop some and say so: eventsDropped); topic messages beyond the buffer are dropped.
            var merged = Channel.CreateBounded<EventDto>(new BoundedChannelOptions(1024) { SingleReader = true });
            using IDisposable topics = service.Topics.Watch(m => merged.Writer.TryWrite(EventDto.From(m)));
            Task pump = PumpAsync(service.Node, merged.Writer, linked.Token);
            try
            {
                yield return new SseItem<EventDto>(new EventDto("connected", DateTimeOffset.UtcNow, null), "connected");
                while (true)
                {
                    EventDto e;
                    try
                    {
                        e = await merged.Reader.ReadAsync(linked.Token);
                    }
                    catch (Exception x) when (x is OperationCanceledException or ChannelClosedException)
                    {
                        yield break;
                    }

                    yield return new SseItem<EventDto>(e, e.Type) { EventId = e.SseId };
                }
            }
            finally
            {
                await linked.CancelAsync();
                await pump.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        static async Task PumpAsync(PeerNetNode node, ChannelWriter<EventDto> into, CancellationToken ct)
        {
            try
            {
                await foreach (NodeEvent e in node.WatchEventsAsync(ct))
                {
                    await into.WriteAsync(EventDto.From(e), ct);
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                into.TryComplete();
            }
        }
    }

    /// <summary>Adds a torrent from any of the three forms; every refusal is a 4xx problem and leaves nothing added.</summary>
    private static async Task<Results<Created<TorrentDto>, ProblemHttpResult>> AddAsync(HttpRequest request, NodeService node, CancellationToken ct)
    {
        AddTorrentRequest add;
        byte[] torrent = [];
        if (request.HasFormContentType)
        {
            IFormCollection form = await request.ReadFormAsync(ct);
            IFormFile? file = form.Files["torrent"] ?? (form.Files.Count > 0 ? form.Files[0] : null);
            if (file is not null)
            {
                torrent = await ReadAllAsync(file.OpenReadStream(), ct);
            }

            add = new AddTorrentRequest
            {
                Magnet = form["magnet"],
                SavePath = form["savePath"],
                Paused = IsTrue(form["paused"]),
                Sequential = IsTrue(form["sequential"]),
                Peers = SplitList(form["peers"]),
            };
        }
        else if (request.ContentType?.StartsWith("application/x-bittorrent", StringComparison.OrdinalIgnoreCase) == true)
        {
            torrent = await ReadAllAsync(request.Body, ct);
            add = new AddTorrentRequest
            {
                SavePath = request.Query["savePath"],
                Paused = IsTrue(request.Query["paused"]),
                Sequential = IsTrue(request.Query["sequential"]),
                Peers = SplitList(request.Query["peers"]),
            };
        }
        else if (request.HasJsonContentType())
        {
            try
            {
                add = await JsonSerializer.DeserializeAsync<AddTorrentRequest>(request.Body, JsonSerializerOptions.Web, ct)
                    ?? throw new JsonException("the body is null");
            }
            catch (JsonException e)
            {
                return Problems.BadRequest("malformed JSON", DisplayText.Sanitize(e.Message, 500));
            }

            if (add.Metainfo is { } base64)
            {
                try
                {
                    torrent = Convert.FromBase64String(base64);
                }
                catch (FormatException)
                {
                    return Problems.BadRequest("malformed metainfo", "'metainfo' must be the .torrent file's bytes in base64");
                }
            }
        }
        else
        {
            return Problems.BadRequest("unsupported content type", "send multipart/form-data, application/x-bittorrent or application/json");
        }

        return await AddParsedAsync(add, torrent, node, ct);
    }

    private static async Task<Results<Created<TorrentDto>, ProblemHttpResult>> AddParsedAsync(AddTorrentRequest add, byte[] torrent, NodeService node, CancellationToken ct)
    {
        bool hasMagnet = !string.IsNullOrEmpty(add.Magnet);
        if (hasMagnet == (torrent.Length > 0))
        {
            return Problems.BadRequest("one torrent, please", "give either a .torrent (upload, raw body or base64 'metainfo') or a 'magnet' link, not both or neither");
        }

        var peers = new List<System.Net.IPEndPoint>();
        foreach (string peer in add.Peers ?? [])
        {
            if (peers.Count == MaxPeers || !System.Net.IPEndPoint.TryParse(peer, out System.Net.IPEndPoint? endPoint) || endPoint.Port == 0)
            {
                return Problems.BadRequest("bad peers", $"'peers' names at most {MaxPeers} peers, each ADDRESS:PORT");
            }

            peers.Add(endPoint);
        }

        TorrentSource source;
        try
        {
            if (hasMagnet)
            {
                if (add.Magnet!.Length > MaxMagnetLength)
                {
                    return Problems.BadRequest("malformed magnet link", $"a magnet link is at most {MaxMagnetLength} characters here");
                }

                source = TorrentSource.FromMagnet(add.Magnet);
            }
            else
            {
                source = TorrentSource.FromBytes(torrent);
            }
        }
        catch (MetainfoException e)
        {
            return Problems.BadRequest("corrupt or hostile .torrent", DisplayText.Sanitize(e.Message, 500));
        }
        catch (MagnetException e)
        {
            return Problems.BadRequest("malformed magnet link", DisplayText.Sanitize(e.Message, 500));
        }

        if (node.Node.FindTorrent(source.InfoHashes) is { } existing)
        {
            return Problems.Conflict($"the node has this torrent already, as {NodeService.IdOf(existing)}");
        }

        var options = new AddTorrentOptions
        {
            SavePath = string.IsNullOrWhiteSpace(add.SavePath) ? node.DownloadFolder : Path.GetFullPath(add.SavePath, node.DownloadFolder),
            Paused = add.Paused,
            Sequential = add.Sequential,
            Peers = peers,
        };
        try
        {
            TorrentHandle handle = await node.AddAsync(source, torrent, options, ct);
            return TypedResults.Created($"/api/v1/torrents/{NodeService.IdOf(handle)}", TorrentDto.From(handle));
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or StorageException)
        {
            return Problems.BadRequest("cannot add this torrent there", DisplayText.Sanitize(e.Message, 500));
        }
    }

    /// <summary>A list given as repeated fields or query parameters, or comma-separated in one.</summary>
    private static string[] SplitList(Microsoft.Extensions.Primitives.StringValues values) =>
        [.. values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    private static bool IsTrue(string? value) => value is not null && (value == "1" || value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("on", StringComparison.OrdinalIgnoreCase));

    private static async Task<byte[]> ReadAllAsync(Stream stream, CancellationToken ct)
    {
        await using (stream)
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct); // bounded by the request body limit (ApiSecurity, Kestrel, FormOptions)
            return buffer.ToArray();
        }
    }
}
