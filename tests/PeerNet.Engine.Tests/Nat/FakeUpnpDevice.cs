using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PeerNet.Engine.Tests.Nat;

/// <summary>
/// A UPnP gateway on loopback: answers an SSDP search (unicast, at <see cref="SsdpEndPoint"/>) with
/// <see cref="Answers"/> and serves HTTP with <see cref="Respond"/> (request line, SOAPAction, body) -> (status, body).
/// Keeps the HTTP requests it got.
/// </summary>
internal sealed class FakeUpnpDevice : IAsyncDisposable
{
    private readonly UdpClient _ssdp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly TcpListener _http = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _ssdpLoop;
    private readonly Task _httpLoop;

    public FakeUpnpDevice(Func<FakeUpnpDevice, IEnumerable<byte[]>> answers, Func<string, string?, string, (int Status, byte[] Body)> respond)
    {
        Answers = answers;
        Respond = respond;
        _http.Start();
        _ssdpLoop = Task.Run(ServeSsdpAsync);
        _httpLoop = Task.Run(ServeHttpAsync);
    }

    public IPEndPoint SsdpEndPoint => (IPEndPoint)_ssdp.Client.LocalEndPoint!;

    public int HttpPort => ((IPEndPoint)_http.LocalEndpoint).Port;

    public Func<FakeUpnpDevice, IEnumerable<byte[]>> Answers { get; }

    public Func<string, string?, string, (int Status, byte[] Body)> Respond { get; }

    /// <summary>(request line, SOAPAction, body) of each HTTP request.</summary>
    public ConcurrentQueue<(string Line, string? Action, string Body)> Requests { get; } = new();

    public static byte[] SsdpAnswer(string location)
        => Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nUSN: uuid:x\r\nLOCATION: {location}\r\n\r\n");

    private async Task ServeSsdpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                UdpReceiveResult search = await _ssdp.ReceiveAsync(_stop.Token);
                foreach (byte[] answer in Answers(this))
                {
                    await _ssdp.SendAsync(answer, search.RemoteEndPoint);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
        }
    }

    private async Task ServeHttpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _http.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        await ServeOneAsync(client.GetStream());
                    }
                    catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
                    {
                        // the client went away (a capped read closes early)
                    }
                }
            });
        }
    }

    private async Task ServeOneAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        byte[] one = new byte[1];
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await stream.ReadAsync(one, _stop.Token) == 0)
            {
                return;
            }

            head.Add(one[0]);
        }

        string[] lines = Encoding.ASCII.GetString([.. head]).Split("\r\n");
        string? Header(string name) => lines.FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim();
        int length = int.TryParse(Header("Content-Length"), out int n) ? n : 0;
        byte[] body = new byte[length];
        await stream.ReadExactlyAsync(body, _stop.Token);
        string? action = Header("SOAPAction")?.Trim('"');
        string text = Encoding.UTF8.GetString(body);
        Requests.Enqueue((lines[0], action, text));
        (int status, byte[] reply) = Respond(lines[0], action, text);
        byte[] headers = Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {reply.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(headers, _stop.Token);
        await stream.WriteAsync(reply, _stop.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _ssdp.Dispose();
        _http.Stop();
        await Task.WhenAll(_ssdpLoop, _httpLoop);
        _stop.Dispose();
    }
}
