using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using PeerNet.Daemon.Service;
using PeerNet.Libp2p;

namespace PeerNet.Daemon.Api;

/// <summary>The libp2p part of the API, under <c>/api/v1/libp2p</c>: connected peers and direct messages.</summary>
internal static class Libp2pEndpoints
{
    /// <summary>Longest identify text shown (agent, protocol IDs).</summary>
    public const int MaxTextLength = 256;

    public static void MapLibp2pApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder libp2p = app.MapGroup("/api/v1/libp2p").WithTags("Libp2p");
        libp2p.MapGet("/", Self).WithSummary("This node's peer ID, multiaddrs and protocols");
        libp2p.MapGet("/peers", Peers).WithSummary("The libp2p peers connected now, with what identify said of each");
        libp2p.MapGet("/resources", Resources).WithSummary("The resource manager: each node-wide limit with what is held against it, refusals since start by limit, streams per protocol, and the peers holding the most stream memory (at most 50)");
        libp2p.MapGet("/messages", Messages).WithSummary("The last direct messages received, newest first");
        libp2p.MapPost("/messages", SendAsync).WithSummary("Send a direct message: {to: multiaddr ending in /p2p/PEERID (or a peer ID the node knows), text}; answers once the peer acknowledged it");
        libp2p.MapGet("/topics", Topics).WithSummary("The gossipsub topics joined, each with its mesh peers and the connected peers subscribed to it");
        libp2p.MapPost("/topics", Join).WithSummary("Join a gossipsub topic: {topic}; its messages are kept (GET /topics/messages) and sent on the event stream as pubsubMessageReceived; kept across restarts");
        libp2p.MapDelete("/topics", Leave).WithSummary("Leave a gossipsub topic: ?topic=NAME");
        libp2p.MapPost("/topics/publish", PublishAsync).WithSummary("Publish on a gossipsub topic (joined or not): {topic, text}; answers how many peers it was sent to");
        libp2p.MapGet("/topics/messages", TopicMessages).WithSummary("The last messages received on the topics joined, newest first");
    }

    private static Ok<TopicDto[]> Topics(NodeService service)
    {
        Libp2pPubsub pubsub = service.Node.Libp2p.Pubsub;
        return TypedResults.Ok(service.Topics.Joined.Select(t => new TopicDto(t, pubsub.MeshPeers(t).Count, pubsub.TopicPeers(t).Count)).ToArray());
    }

    private static Results<Created<TopicDto>, Ok<TopicDto>, ProblemHttpResult> Join(TopicRequest request, NodeService service)
    {
        if (CheckTopic(request.Topic) is { } bad)
        {
            return bad;
        }

        try
        {
            bool joined = service.Topics.Join(request.Topic!);
            var topic = new TopicDto(request.Topic!, 0, service.Node.Libp2p.Pubsub.TopicPeers(request.Topic!).Count);
            return joined ? TypedResults.Created((string?)null, topic) : TypedResults.Ok(topic);
        }
        catch (InvalidOperationException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status409Conflict, title: "too many topics");
        }
    }

    private static Results<NoContent, ProblemHttpResult> Leave(string? topic, NodeService service) =>
        CheckTopic(topic) is { } bad ? bad
        : service.Topics.Leave(topic!) ? TypedResults.NoContent()
        : TypedResults.Problem($"the daemon has not joined '{DisplayText.Sanitize(topic, 100)}'", statusCode: StatusCodes.Status404NotFound, title: "unknown topic");

    private static async Task<Results<Ok<PublishResult>, ProblemHttpResult>> PublishAsync(PublishRequest request, NodeService service, CancellationToken ct)
    {
        if (CheckTopic(request.Topic) is { } bad)
        {
            return bad;
        }

        if (request.Text is null)
        {
            return Problems.BadRequest("text needed", "give the message's text: {\"topic\": ..., \"text\": ...}");
        }

        try
        {
            int peers = await service.Node.Libp2p.Pubsub.PublishAsync(request.Topic!, System.Text.Encoding.UTF8.GetBytes(request.Text), ct);
            return TypedResults.Ok(new PublishResult(peers));
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest("cannot publish", DisplayText.Sanitize(e.Message, 500));
        }
    }

    private static Ok<TopicMessageDto[]> TopicMessages(NodeService service) =>
        TypedResults.Ok(service.Topics.Recent.Select(TopicMessageDto.Of).ToArray());

    /// <summary>A 400 for a missing or oversized topic name; null for a usable one.</summary>
    private static ProblemHttpResult? CheckTopic(string? topic) =>
        string.IsNullOrEmpty(topic) ? Problems.BadRequest("topic needed", "name the topic: {\"topic\": \"NAME\"} (or ?topic=NAME to leave)")
        : System.Text.Encoding.UTF8.GetByteCount(topic) > MaxTopicLength ? Problems.BadRequest("topic too long", $"a topic name has at most {MaxTopicLength} bytes")
        : null;

    /// <summary>The longest topic name (gossipsub's own limit in this engine).</summary>
    public const int MaxTopicLength = 512;

    private static Ok<Libp2pNodeDto> Self(NodeService service)
    {
        Libp2pService libp2p = service.Node.Libp2p;
        return TypedResults.Ok(new Libp2pNodeDto(libp2p.PeerId.ToString(), [.. libp2p.ListenAddresses.Select(a => a.ToString())], libp2p.Protocols));
    }

    private static Ok<Libp2pPeerDto[]> Peers(NodeService service) =>
        TypedResults.Ok(service.Node.Libp2p.ConnectedPeers.OrderBy(p => p.PeerId.ToString(), StringComparer.Ordinal).Select(Libp2pPeerDto.Of).ToArray());

    /// <summary>Most peers listed by <c>/resources</c>, those holding the most stream memory first.</summary>
    public const int MaxResourcePeers = 50;

    private static Ok<Libp2pResourcesDto> Resources(NodeService service)
    {
        Libp2pResourceUsage usage = service.Node.Libp2p.Resources;
        DoctorLibp2pResources node = DoctorLibp2pResources.From(usage)!;
        return TypedResults.Ok(new Libp2pResourcesDto(
            node.Limits,
            node.TransientStreams,
            node.Refused,
            [.. usage.Protocols.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => new Libp2pScopeDto(DisplayText.Sanitize(p.Key, MaxTextLength), p.Value))],
            [.. usage.Peers.OrderByDescending(p => p.Value.Memory).ThenBy(p => p.Key.ToString(), StringComparer.Ordinal).Take(MaxResourcePeers).Select(p => new Libp2pScopeDto(p.Key.ToString(), p.Value))],
            usage.Peers.Count));
    }

    private static Ok<DirectMessageDto[]> Messages(NodeService service) =>
        TypedResults.Ok(service.Messages.Recent.Select(DirectMessageDto.Of).ToArray());

    private static async Task<Results<Ok<SendMessageResult>, ProblemHttpResult>> SendAsync(SendMessageRequest request, NodeService service, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.To) || request.Text is null)
        {
            return Problems.BadRequest("to and text are needed", "give the receiver (a multiaddr ending in /p2p/PEERID, or a peer ID) and the text");
        }

        byte[] data = System.Text.Encoding.UTF8.GetBytes(request.Text);
        if (data.Length > Libp2pService.MaxMessageLength)
        {
            return Problems.BadRequest("message too large", $"a direct message carries at most {Libp2pService.MaxMessageLength} bytes, not {data.Length}");
        }

        Libp2pService libp2p = service.Node.Libp2p;
        try
        {
            TimeSpan took;
            if (Multiaddr.TryParse(request.To, out Multiaddr? address, out _))
            {
                took = await libp2p.SendMessageAsync(address, data, ct);
            }
            else if (Libp2pPeerId.TryParse(request.To, out Libp2pPeerId? peer, out _))
            {
                took = await libp2p.SendMessageAsync(peer, data, ct);
            }
            else
            {
                return Problems.BadRequest("not a receiver", $"'{DisplayText.Sanitize(request.To, 200)}' is neither a multiaddr nor a peer ID");
            }

            return TypedResults.Ok(new SendMessageResult(took.TotalMilliseconds));
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest("not a receiver", DisplayText.Sanitize(e.Message, 500));
        }
        catch (DirectMessageException e)
        {
            return TypedResults.Problem(DisplayText.Sanitize(e.Message, 500), statusCode: StatusCodes.Status502BadGateway, title: "not delivered: " + e.Failure);
        }
    }
}

/// <summary>This node on libp2p.</summary>
internal sealed record Libp2pNodeDto(string PeerId, IReadOnlyList<string> ListenAddresses, IReadOnlyList<string> Protocols);

/// <summary>A connected libp2p peer. <c>Direction</c> is <c>outbound</c> when this node dialled it, else <c>inbound</c>.</summary>
internal sealed record Libp2pPeerDto(string PeerId, string? Address, string? Agent, IReadOnlyList<string> Protocols, string Direction, IReadOnlyList<string> ListenAddresses)
{
    public static Libp2pPeerDto Of(Libp2pPeerInfo p) => new(
        p.PeerId.ToString(),
        p.RemoteEndPoint?.ToString(),
        p.AgentVersion is null ? null : DisplayText.Sanitize(p.AgentVersion, Libp2pEndpoints.MaxTextLength),
        [.. p.Protocols.Select(x => DisplayText.Sanitize(x, Libp2pEndpoints.MaxTextLength))],
        p.Outbound ? "outbound" : "inbound",
        [.. p.ListenAddresses.Select(a => a.ToString())]);
}

/// <summary>A direct message received: its sender, its text (UTF-8, sanitized) and size, when it was sent (by the sender's clock) and received.</summary>
internal sealed record DirectMessageDto(string From, string Text, int Length, DateTimeOffset Sent, DateTimeOffset Received)
{
    /// <summary>Longest text shown of a message (a direct message carries up to 64 KiB).</summary>
    public const int MaxTextLength = 4096;

    public static DirectMessageDto Of(DirectMessage m) => new(m.From.ToString(), DisplayText.Sanitize(m.Text, MaxTextLength), m.Data.Length, m.Sent, m.Received);
}

/// <summary>A direct message to send.</summary>
internal sealed record SendMessageRequest(string? To, string? Text);

/// <summary>A message delivered: how long until the peer acknowledged it.</summary>
internal sealed record SendMessageResult(double Milliseconds);

/// <summary>A gossipsub topic joined: the peers in its mesh, and the connected peers subscribed to it.</summary>
internal sealed record TopicDto(string Topic, int MeshPeers, int Peers);

/// <summary>A topic to join.</summary>
internal sealed record TopicRequest(string? Topic);

/// <summary>A message to publish.</summary>
internal sealed record PublishRequest(string? Topic, string? Text);

/// <summary>A message published: how many peers it was sent to.</summary>
internal sealed record PublishResult(int Peers);

/// <summary>A message received on a topic: its author (signature checked), the peer it came through, its text (UTF-8, sanitized) and size.</summary>
internal sealed record TopicMessageDto(string Topic, string From, string ReceivedFrom, string Text, int Length)
{
    public static TopicMessageDto Of(PubsubMessage m) => new(
        DisplayText.Sanitize(m.Topic, Libp2pEndpoints.MaxTopicLength),
        m.From.ToString(),
        m.ReceivedFrom.ToString(),
        DisplayText.Sanitize(System.Text.Encoding.UTF8.GetString(m.Data.Span), DirectMessageDto.MaxTextLength),
        m.Data.Length);
}

/// <summary>The libp2p resource manager: node-wide limits and what is held, refusals by limit, each protocol's streams and the peers holding the most.</summary>
internal sealed record Libp2pResourcesDto(IReadOnlyList<DoctorLimit> Limits, int TransientStreams, IReadOnlyDictionary<string, long> Refused, IReadOnlyList<Libp2pScopeDto> Protocols, IReadOnlyList<Libp2pScopeDto> Peers, int PeerCount);

/// <summary>What one peer or protocol holds: connections (0 for a protocol), streams each way and reserved stream memory in bytes.</summary>
internal sealed record Libp2pScopeDto(string Name, int InboundConnections, int OutboundConnections, int InboundStreams, int OutboundStreams, long Memory)
{
    public Libp2pScopeDto(string name, Libp2pScopeUsage u)
        : this(name, u.InboundConnections, u.OutboundConnections, u.InboundStreams, u.OutboundStreams, u.Memory)
    {
    }
}
