// Seeds every .torrent in a folder, with its data beside it, from one node on one port, until Ctrl+C:
//   dotnet run --project samples/SeedMany -- <folder> [port]
using System.Globalization;
using PeerNet;

if (args.Length < 1 || !Directory.Exists(args[0]))
{
    Console.Error.WriteLine("usage: SeedMany <folder with .torrent files and their data> [port]");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

int port = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 6881;
await using PeerNetNode node = await PeerNetNode.StartAsync(new PeerNetNodeOptions { ListenPort = port }, cancellationToken: stop.Token);
Console.WriteLine($"listening on port {node.ListenPort}");

foreach (string file in Directory.EnumerateFiles(args[0], "*.torrent"))
{
    try
    {
        // Read-only: the data is served where it lies, and never written.
        TorrentHandle torrent = await node.AddTorrentAsync(await TorrentSource.FromFileAsync(file, stop.Token), new AddTorrentOptions { SavePath = args[0], ReadOnly = true }, stop.Token);
        TorrentStatus status = torrent.GetStatus();
        Console.WriteLine($"{DisplayText.Sanitize(torrent.Name)}: {status.PiecesVerified}/{status.PieceCount} pieces");
    }
    catch (Exception e) when (e is IOException or FormatException or InvalidOperationException)
    {
        Console.Error.WriteLine($"{Path.GetFileName(file)}: {DisplayText.Sanitize(e.Message)}");
    }
}

try
{
    while (true)
    {
        await Task.Delay(TimeSpan.FromSeconds(5), stop.Token);
        NodeStatus node5 = node.GetStatus();
        Console.WriteLine($"{node5.Torrents} torrents, {node5.Connections} peers, up {node5.UploadRate / 1e6:F2} MB/s, sent {node5.Uploaded / 1e6:F1} MB");
    }
}
catch (OperationCanceledException)
{
}

return 0;
