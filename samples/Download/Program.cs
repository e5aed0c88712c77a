// Downloads a torrent or a magnet link into a folder, and exits 0 once every piece is verified on disk:
//   dotnet run --project samples/Download -- <torrent-file|magnet> <folder> [host:port ...]
using System.Net;
using PeerNet;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Download <torrent-file|magnet> <folder> [host:port ...]");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

// One node: any free port, the DHT on, resume data kept so a second run fetches nothing twice.
string state = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "PeerNet.Download");
await using PeerNetNode node = await PeerNetNode.StartAsync(new PeerNetNodeOptions { ListenPort = 0, StateDirectory = state }, cancellationToken: stop.Token);

TorrentSource source = await TorrentSource.FromFileOrMagnetAsync(args[0], stop.Token);
TorrentHandle torrent = await node.AddTorrentAsync(source, new AddTorrentOptions
{
    SavePath = args[1],
    Peers = [.. args.Skip(2).Select(IPEndPoint.Parse)],
}, stop.Token);

Task done = torrent.WaitForCompletionAsync(stop.Token);
while (await Task.WhenAny(done, Task.Delay(1000, stop.Token)) != done)
{
    TorrentStatus s = torrent.GetStatus();
    Console.WriteLine($"{s.State,-16} {s.Progress,7:P1}  {s.DownloadRate / 1e6,7:F2} MB/s  {s.Peers} peers");
}

await done; // throws if the torrent stopped on an error
Console.WriteLine($"complete: {DisplayText.Sanitize(torrent.Name)} in {torrent.Options.SavePath}");
return 0;
