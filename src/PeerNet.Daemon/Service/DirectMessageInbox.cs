using PeerNet.Libp2p;

namespace PeerNet.Daemon.Service;

/// <summary>
/// The daemon's receiver of direct messages (<c>/peernet/dm/1.0.0</c>): keeps the last <see cref="Capacity"/> for the
/// API and the dashboard; a message is acknowledged to its sender once it is kept here.
/// </summary>
internal sealed class DirectMessageInbox
{
    /// <summary>Messages kept, the oldest forgotten first.</summary>
    public const int Capacity = 100;

    private readonly Queue<DirectMessage> _messages = new();
    private readonly Lock _gate = new();

    /// <summary>The messages kept, newest first.</summary>
    public IReadOnlyList<DirectMessage> Recent
    {
        get
        {
            lock (_gate)
            {
                return [.. _messages.Reverse()];
            }
        }
    }

    /// <summary>Makes <paramref name="node"/> take direct messages into this inbox.</summary>
    public void Attach(PeerNetNode node) => node.Libp2p.SetMessageHandler((message, _) =>
    {
        lock (_gate)
        {
            if (_messages.Count == Capacity)
            {
                _messages.Dequeue();
            }

            _messages.Enqueue(message);
        }

        return Task.CompletedTask;
    });
}
