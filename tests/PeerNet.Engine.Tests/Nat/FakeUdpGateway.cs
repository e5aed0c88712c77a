using System.Net;
using System.Net.Sockets;

namespace PeerNet.Engine.Tests.Nat;

/// <summary>
/// A gateway's UDP service on loopback for the port-mapping tests: receives each request on its own socket and hands it
/// to <see cref="AnswerAsync"/> (the protocol's part), until disposed.
/// </summary>
internal abstract class FakeUdpGateway : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    protected FakeUdpGateway() => _loop = Task.Run(ServeAsync);

    public IPEndPoint EndPoint => (IPEndPoint)Socket.Client.LocalEndPoint!;

    protected UdpClient Socket { get; } = new(new IPEndPoint(IPAddress.Loopback, 0));

    /// <summary>Answers (or ignores) one request from <paramref name="from"/>.</summary>
    protected abstract Task AnswerAsync(byte[] request, IPEndPoint from);

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await Socket.ReceiveAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            await AnswerAsync(received.Buffer, received.RemoteEndPoint);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        Socket.Dispose();
        await _loop;
        _stop.Dispose();
    }
}
