using System.Globalization;

namespace PeerNet.Cli.Demo;

internal sealed partial class DemoSwarm
{
    /// <summary>With <c>--churn</c>, a quarter of the leechers (at least one) each leave once, somewhere between 25% and 60%.</summary>
    private void PlanChurn(DemoNode[] leechers)
    {
        if (!Options.Churn)
        {
            return;
        }

        DemoNode[] order = [.. leechers];
        _random.Shuffle(order);
        foreach (DemoNode node in order.Take(Math.Max(1, leechers.Length / 4)))
        {
            node.LeaveAt = 0.25 + (0.35 * _random.NextDouble());
        }
    }

    /// <summary>
    /// The peer leaves (its node stopped, its resume data saved), stays away, and comes back as a new node on the
    /// same folder and resume folder: the pieces it verified before are found on disk, not fetched again.
    /// </summary>
    private async Task LeaveAndRejoinAsync(DemoNode node, CancellationToken cancellationToken)
    {
        int port = node.ListenPort;
        node.Rejoin = new DemoRejoin(0, 0, 0, 0, 0); // marks it as churned, so it leaves once
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        Report(string.Create(CultureInfo.InvariantCulture, $"{node.Name} leaves at {100 * node.GetStatus().PiecesVerified / Metainfo!.PieceCount}%"));
        TorrentStatus? left = await node.StopAsync().ConfigureAwait(false);
        int had = left?.PiecesVerified ?? 0;
        DemoNodeStatus before = node.GetStatus();
        string slow = stopping.Elapsed > TimeSpan.FromSeconds(1) ? string.Create(CultureInfo.InvariantCulture, $" (stopping took {stopping.Elapsed.TotalSeconds:0.0} s)") : "";
        Report($"{node.Name} left with {had}/{Metainfo.PieceCount} pieces verified{slow}");
        await Task.Delay(Options.ChurnDowntime, cancellationToken).ConfigureAwait(false);

        try
        {
            await StartNodeAsync(node, port, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException)
        {
            await StartNodeAsync(node, 0, cancellationToken).ConfigureAwait(false); // the old port is taken
        }

        int found = node.Torrent!.GetStatus().PiecesFoundOnDisk;
        // At most this much is left to fetch (the last piece may be shorter).
        long missing = Math.Min(Metainfo.TotalSize, (long)(Metainfo.PieceCount - found) * Metainfo.PieceLength);
        node.Rejoin = new DemoRejoin(had, found, missing, before.Downloaded, before.Wasted);
        Report(string.Create(CultureInfo.InvariantCulture,
            $"{node.Name} rejoined on the same folder: {found}/{Metainfo.PieceCount} pieces found verified on disk, {Metainfo.PieceCount - found} left to fetch"));
    }
}
