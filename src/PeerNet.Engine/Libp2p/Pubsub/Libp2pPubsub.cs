using System.Threading.Channels;

namespace PeerNet.Libp2p;

/// <summary>A message received on a pubsub topic: signed by its author (checked), delivered once.</summary>
/// <param name="Topic">The topic it was published on.</param>
/// <param name="From">Its author, whose signature it carries.</param>
/// <param name="Data">What the author published.</param>
/// <param name="SequenceNumber">The author's sequence number (with <paramref name="From"/>, the message's identity).</param>
/// <param name="ReceivedFrom">The peer that forwarded it to this node (the author, or a relay).</param>
public sealed record PubsubMessage(string Topic, Libp2pPeerId From, ReadOnlyMemory<byte> Data, ulong SequenceNumber, Libp2pPeerId ReceivedFrom);

/// <summary>What a topic validator decides about a message (gossipsub v1.1's extended validators).</summary>
public enum PubsubValidationResult
{
    /// <summary>Valid: delivered to subscribers and forwarded.</summary>
    Accept,

    /// <summary>Invalid: dropped, and the peer that sent it is penalized (score P₄).</summary>
    Reject,

    /// <summary>Neither delivered nor forwarded, with no penalty (e.g. not checkable yet).</summary>
    Ignore,
}

/// <summary>
/// A subscription to one topic from <see cref="Libp2pPubsub.Subscribe"/>: read the messages with
/// <see cref="Messages"/> or <c>await foreach</c>; dispose it to unsubscribe (the node leaves the topic when its last
/// subscription goes). Holds up to <c>1024</c> unread messages, dropping the oldest beyond.
/// </summary>
public sealed class PubsubSubscription : IAsyncEnumerable<PubsubMessage>, IDisposable
{
    private readonly Channel<PubsubMessage> _channel;
    private readonly Action<PubsubSubscription> _unsubscribe;
    private int _disposed;

    internal PubsubSubscription(string topic, int buffer, Action<PubsubSubscription> unsubscribe)
    {
        Topic = topic;
        _unsubscribe = unsubscribe;
        _channel = Channel.CreateBounded<PubsubMessage>(new BoundedChannelOptions(buffer)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleWriter = false,
            SingleReader = false,
        });
    }

    /// <summary>The topic.</summary>
    public string Topic { get; }

    /// <summary>The messages received, in arrival order; completes when the subscription is disposed or the node stops.</summary>
    public ChannelReader<PubsubMessage> Messages => _channel.Reader;

    /// <summary>Reads the messages until the subscription ends or <paramref name="cancellationToken"/> fires.</summary>
    public IAsyncEnumerator<PubsubMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        _channel.Reader.ReadAllAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);

    /// <summary>Unsubscribes; messages already received can still be read.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _unsubscribe(this);
            Complete();
        }
    }

    internal void Deliver(PubsubMessage message) => _channel.Writer.TryWrite(message);

    internal void Complete() => _channel.Writer.TryComplete();
}

/// <summary>
/// Publish/subscribe over gossipsub v1.1 (<c>/meshsub/1.1.0</c>; <c>/meshsub/1.0.0</c> and <c>/floodsub/1.0.0</c>
/// peers too), as js- and go-libp2p speak it: every message signed by its author and checked (StrictSign), duplicates
/// dropped, a mesh of about 6 peers per topic kept by a 1 s heartbeat, gossip about recent messages, and peer
/// scoring that stops forwarding to, and then listening to, peers that send invalid messages. Peers are those this
/// node is connected to over libp2p (<see cref="Libp2pService.ConnectAsync"/>) that speak the protocol.
/// </summary>
public sealed class Libp2pPubsub
{
    private readonly GossipsubRouter _router;

    internal Libp2pPubsub(GossipsubRouter router)
    {
        _router = router;
    }

    /// <summary>The topics this node is subscribed to, sorted.</summary>
    public IReadOnlyList<string> Topics => _router.Topics;

    /// <summary>
    /// Subscribes to <paramref name="topic"/>: the node joins the topic's mesh and the returned subscription receives
    /// every valid message published on it from then on (not this node's own). Several subscriptions to one topic
    /// each get every message.
    /// </summary>
    public PubsubSubscription Subscribe(string topic) => _router.Subscribe(topic);

    /// <summary>
    /// Signs and publishes <paramref name="data"/> on <paramref name="topic"/> (subscribed or not): it goes to every
    /// connected peer subscribed to the topic whose score is above the publish threshold (flood publishing). Returns
    /// how many peers it was sent to (0 when none is subscribed). Throws <see cref="ArgumentException"/> for a topic
    /// or message over the size limits (512-byte topic, messages up to 1 MiB less room for the envelope).
    /// </summary>
    public Task<int> PublishAsync(string topic, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(_router.Publish(topic, data.Span));
    }

    /// <summary>The peers in this node's mesh of <paramref name="topic"/> (those it forwards the topic's messages to).</summary>
    public IReadOnlyList<Libp2pPeerId> MeshPeers(string topic) => _router.MeshPeers(topic);

    /// <summary>The connected peers that said they subscribe to <paramref name="topic"/>.</summary>
    public IReadOnlyList<Libp2pPeerId> TopicPeers(string topic) => _router.TopicPeers(topic);

    /// <summary>The peer's gossipsub score as this node computes it (P₁–P₇; 0 for one never seen).</summary>
    public double PeerScore(Libp2pPeerId peer) => _router.PeerScore(peer);

    /// <summary>
    /// Sets the validator of <paramref name="topic"/> (null removes it): called for every new message on the topic
    /// before it is delivered or forwarded; <see cref="PubsubValidationResult.Reject"/> penalizes the peer that sent
    /// it. It runs on the receiving thread: keep it quick. An exception counts as <see cref="PubsubValidationResult.Ignore"/>.
    /// </summary>
    public void SetValidator(string topic, Func<PubsubMessage, PubsubValidationResult>? validator) => _router.SetValidator(topic, validator);
}
