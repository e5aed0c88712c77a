using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace PeerNet.Engine.Tests.Trackers;

/// <summary>One request the fake HTTP tracker received: its path and its query, percent-decoded to bytes.</summary>
internal sealed record FakeHttpRequest(string Path, IReadOnlyList<KeyValuePair<string, byte[]>> Parameters)
{
    public byte[]? GetBytes(string key) => Parameters.FirstOrDefault(p => p.Key == key).Value;

    public string? Get(string key) => GetBytes(key) is { } value ? Encoding.Latin1.GetString(value) : null;

    public long GetInt64(string key) => long.Parse(Get(key)!, CultureInfo.InvariantCulture);
}

/// <summary>What the fake HTTP tracker answers: a status and body, a redirect, no Content-Length, or nothing at all.</summary>
internal sealed record FakeHttpResponse(int Status, byte[] Body)
{
    public string? Location { get; init; }

    public bool OmitLength { get; init; }

    /// <summary>Never answer: hold the connection open until the tracker is disposed.</summary>
    public bool Hang { get; init; }

    public static FakeHttpResponse Ok(byte[] body) => new(200, body);
}

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 for tracker tests: reads one request per connection (headers up to 16 KiB),
/// records it, answers what <see cref="Handler"/> returns, and closes.
/// </summary>
internal sealed class FakeHttpTracker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accept;

    public FakeHttpTracker(Func<FakeHttpRequest, FakeHttpResponse> handler)
    {
        Handler = handler;
        _listener.Start();
        _accept = AcceptLoopAsync();
    }

    public Func<FakeHttpRequest, FakeHttpResponse> Handler { get; set; }

    public ConcurrentQueue<FakeHttpRequest> Requests { get; } = new();

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string AnnounceUrl => $"http://127.0.0.1:{Port}/announce";

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accept;
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stopping.Token);
                connections.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                NetworkStream stream = client.GetStream();
                var head = new List<byte>();
                var buffer = new byte[4096];
                while (head.Count < 16 * 1024 && !EndsHeaders(head))
                {
                    int read = await stream.ReadAsync(buffer, _stopping.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    head.AddRange(buffer.AsSpan(0, read));
                }

                string target = Encoding.Latin1.GetString([.. head]).Split("\r\n")[0].Split(' ')[1];
                FakeHttpRequest request = Parse(target);
                Requests.Enqueue(request);
                FakeHttpResponse response = Handler(request);
                if (response.Hang)
                {
                    await Task.Delay(Timeout.Infinite, _stopping.Token);
                }

                var text = new StringBuilder();
                text.Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} Fake\r\nConnection: close\r\n");
                if (!response.OmitLength)
                {
                    text.Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n");
                }

                if (response.Location is not null)
                {
                    text.Append(CultureInfo.InvariantCulture, $"Location: {response.Location}\r\n");
                }

                text.Append("\r\n");
                await stream.WriteAsync(Encoding.Latin1.GetBytes(text.ToString()), _stopping.Token);
                await stream.WriteAsync(response.Body, _stopping.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
            }
        }
    }

    private static bool EndsHeaders(List<byte> head)
        => head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n';

    private static FakeHttpRequest Parse(string target)
    {
        int q = target.IndexOf('?', StringComparison.Ordinal);
        string path = q < 0 ? target : target[..q];
        var parameters = new List<KeyValuePair<string, byte[]>>();
        if (q >= 0)
        {
            foreach (string pair in target[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = pair.IndexOf('=', StringComparison.Ordinal);
                parameters.Add(new(eq < 0 ? pair : pair[..eq], eq < 0 ? [] : Decode(pair[(eq + 1)..])));
            }
        }

        return new FakeHttpRequest(path, parameters);
    }

    private static byte[] Decode(string value)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < value.Length; i++)
        {
            if (value[i] == '%' && i + 2 < value.Length)
            {
                bytes.Add(byte.Parse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 2;
            }
            else
            {
                bytes.Add((byte)value[i]);
            }
        }

        return [.. bytes];
    }
}
