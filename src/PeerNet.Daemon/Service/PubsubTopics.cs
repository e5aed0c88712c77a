using System.Text.Json;
using PeerNet.Daemon.Persistence;
using PeerNet.Libp2p;

namespace PeerNet.Daemon.Service;

/// <summary>
/// The gossipsub topics the daemon has joined: one subscription each, their messages kept (the last
/// <see cref="Capacity"/> over every topic) for the API and passed to the event stream's listeners. The topics joined
/// are kept in <c>&lt;state&gt;/topics.json</c> (written atomically) and joined again at the next start.
/// </summary>
internal sealed class PubsubTopics : IDisposable
{
    /// <summary>Messages kept, the oldest forgotten first.</summary>
    public const int Capacity = 100;

    /// <summary>The most topics joined at once.</summary>
    public const int MaxTopics = 64;

    private readonly string _file;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, PubsubSubscription> _joined = new(StringComparer.Ordinal);
    private readonly Queue<PubsubMessage> _messages = new();
    private readonly List<Action<PubsubMessage>> _listeners = [];
    private Libp2pPubsub? _pubsub;

    public PubsubTopics(string file)
    {
        _file = file;
    }

    /// <summary>The topics joined, sorted.</summary>
    public IReadOnlyList<string> Joined
    {
        get
        {
            lock (_gate)
            {
                return [.. _joined.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The messages received on the topics joined, newest first.</summary>
    public IReadOnlyList<PubsubMessage> Recent
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages.Reverse()];
            }
        }
    }

    /// <summary>Starts on the running node's pubsub: the topics kept from the last run are joined again.</summary>
    public void Attach(Libp2pPubsub pubsub)
    {
        string[] kept = [];
        try
        {
            kept = File.Exists(_file) ? JsonSerializer.Deserialize<string[]>(File.ReadAllBytes(_file)) ?? [] : [];
        }
        catch (JsonException)
        {
            // a damaged list: no topic is joined again, and the next join rewrites it
        }

        lock (_gate)
        {
            _pubsub = pubsub;
            foreach (string topic in kept.Where(t => !string.IsNullOrEmpty(t)).Distinct(StringComparer.Ordinal).Take(MaxTopics))
            {
                Subscribe(topic);
            }
        }
    }

    /// <summary>
    /// Joins <paramref name="topic"/>; false if it was joined already. Throws <see cref="InvalidOperationException"/>
    /// beyond <see cref="MaxTopics"/>, <see cref="IOException"/> if the list cannot be kept (nothing joined then).
    /// </summary>
    public bool Join(string topic)
    {
        lock (_gate)
        {
            if (_joined.ContainsKey(topic))
            {
                return false;
            }

            if (_joined.Count >= MaxTopics)
            {
                throw new InvalidOperationException($"the daemon joins at most {MaxTopics} topics: leave one first");
            }

            Save([.. _joined.Keys, topic]);
            Subscribe(topic);
            return true;
        }
    }

    /// <summary>Leaves <paramref name="topic"/>; false if it was not joined.</summary>
    public bool Leave(string topic)
    {
        lock (_gate)
        {
            if (!_joined.Remove(topic, out PubsubSubscription? subscription))
            {
                return false;
            }

            Save([.. _joined.Keys]);
            subscription.Dispose();
            return true;
        }
    }

    /// <summary>Calls <paramref name="listener"/> with every message received from now on, until the result is disposed.</summary>
    public IDisposable Watch(Action<PubsubMessage> listener)
    {
        lock (_gate)
        {
            _listeners.Add(listener);
        }

        return new Unwatch(this, listener);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (PubsubSubscription s in _joined.Values)
            {
                s.Dispose();
            }

            _joined.Clear();
        }
    }

    private void Subscribe(string topic)
    {
        PubsubSubscription subscription = (_pubsub ?? throw new InvalidOperationException("the node is not running")).Subscribe(topic);
        _joined[topic] = subscription;
        _ = Task.Run(() => ReceiveAsync(subscription));
    }

    private async Task ReceiveAsync(PubsubSubscription subscription)
    {
        await foreach (PubsubMessage message in subscription)
        {
            Action<PubsubMessage>[] listeners;
            lock (_gate)
            {
                if (_messages.Count == Capacity)
                {
                    _messages.Dequeue();
                }

                _messages.Enqueue(message);
                listeners = [.. _listeners];
            }

            foreach (Action<PubsubMessage> listener in listeners)
            {
                listener(message);
            }
        }
    }

    private void Save(IEnumerable<string> topics) => AtomicFile.Write(_file, JsonSerializer.SerializeToUtf8Bytes(topics.Order(StringComparer.Ordinal).ToArray()));

    private sealed class Unwatch(PubsubTopics topics, Action<PubsubMessage> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (topics._gate)
            {
                topics._listeners.Remove(listener);
            }
        }
    }
}
