using System.Net;
using System.Text.Json;
using PeerNet.Daemon.Service;
using PeerNet.Magnet;
using PeerNet.Metainfo;

namespace PeerNet.Daemon.Transmission;

/// <summary>
/// torrent-get: the fields Transmission names, in its types (a whole number where Transmission gives one: its clients
/// read those as integers and skip a torrent whose number has a fraction). A field PeerNet has no value for is left
/// out, as Transmission leaves out a name it does not know; docs/transmission-rpc.md lists both.
/// </summary>
internal sealed partial class TransmissionMethods
{
    /// <summary>Transmission's torrent states.</summary>
    internal enum Status
    {
        Stopped = 0,
        CheckWait = 1,
        Check = 2,
        DownloadWait = 3,
        Download = 4,
        SeedWait = 5,
        Seed = 6,
    }

    /// <summary>Every field torrent-get answers.</summary>
    internal static readonly IReadOnlySet<string> TorrentFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "addedDate", "bandwidthPriority", "comment", "creator", "dateCreated", "doneDate", "downloadDir", "downloadedEver",
        "downloadLimit", "downloadLimited", "error", "errorString", "eta", "files", "fileStats", "hashString",
        "haveUnchecked", "haveValid", "honorsSessionLimits", "id", "isFinished", "isPrivate", "isStalled", "labels",
        "leftUntilDone", "magnetLink", "metadataPercentComplete", "name", "peer-limit", "peers", "peersConnected",
        "peersGettingFromUs", "peersSendingToUs", "percentDone", "pieceCount", "pieceSize", "priorities", "queuePosition",
        "rateDownload", "rateUpload", "seedRatioLimit", "seedRatioMode", "sizeWhenDone", "status", "totalSize",
        "trackers", "trackerStats", "uploadedEver", "uploadLimit", "uploadLimited", "uploadRatio", "wanted",
        "webseeds", "webseedsSendingToUs",
    };

    private static readonly string[] PeerFields = ["peers", "peersGettingFromUs", "peersSendingToUs"];
    private static readonly string[] FileFields = ["files", "fileStats", "priorities", "wanted"];
    private static readonly string[] SizeFields = ["haveValid", "sizeWhenDone", "leftUntilDone", "percentDone", "eta", "uploadRatio", "status"];

    private async Task TorrentGetAsync(RpcArguments arguments, Utf8JsonWriter writer, CancellationToken ct)
    {
        IReadOnlyList<string> fields = arguments.GetStrings("fields") ?? throw new RpcException("no fields specified");
        string[] known = [.. fields.Where(TorrentFields.Contains).Distinct(StringComparer.Ordinal)];
        bool table = arguments.GetString("format") switch
        {
            null or "objects" => false,
            "table" => true,
            _ => throw new RpcException("'format' is \"objects\" or \"table\""),
        };
        bool recent = arguments.TryGet("ids", out JsonElement ids) && ids.ValueKind == JsonValueKind.String && ids.GetString() == "recently-active";
        IReadOnlyList<TorrentHandle> torrents = Select(arguments);
        bool peers = known.Any(PeerFields.Contains);
        bool files = known.Any(FileFields.Contains);
        bool sizes = known.Any(SizeFields.Contains);
        Dictionary<TorrentHandle, long> numbers = Numbers();
        Dictionary<TorrentHandle, int>? positions = known.Contains("queuePosition")
            ? _node.Node.Torrents.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i)
            : null;

        writer.WriteStartArray("torrents");
        if (table)
        {
            writer.WriteStartArray();
            foreach (string field in known)
            {
                writer.WriteStringValue(field);
            }

            writer.WriteEndArray();
        }

        foreach (TorrentHandle torrent in torrents)
        {
            TorrentView view = await TorrentView.ReadAsync(torrent, peers, files, sizes, ct);
            view.QueuePosition = positions?.GetValueOrDefault(torrent, -1) ?? -1;
            view.Number = numbers.TryGetValue(torrent, out long number) ? number : _ids.Of(torrent);
            if (table)
            {
                writer.WriteStartArray();
            }
            else
            {
                writer.WriteStartObject();
            }

            foreach (string field in known)
            {
                if (!table)
                {
                    writer.WritePropertyName(field);
                }

                WriteField(writer, field, view);
            }

            if (table)
            {
                writer.WriteEndArray();
            }
            else
            {
                writer.WriteEndObject();
            }
        }

        writer.WriteEndArray();
        if (recent)
        {
            writer.WriteStartArray("removed");
            foreach (long id in RecentlyRemoved())
            {
                writer.WriteNumberValue(id);
            }

            writer.WriteEndArray();
        }
    }

    private void WriteField(Utf8JsonWriter w, string field, TorrentView v)
    {
        TorrentStatus s = v.Status;
        TorrentMetainfo? m = v.Torrent.Metainfo;
        AddTorrentOptions o = v.Torrent.Options;
        switch (field)
        {
            case "addedDate": w.WriteNumberValue(AddedDate(v.Torrent)); break;
            case "bandwidthPriority": w.WriteNumberValue(0); break;
            case "comment": w.WriteStringValue(DisplayText.Sanitize(m?.Comment, 2000)); break;
            case "creator": w.WriteStringValue(DisplayText.Sanitize(m?.CreatedBy, 200)); break;
            case "dateCreated": w.WriteNumberValue(m?.CreationDate?.ToUnixTimeSeconds() ?? 0); break;
            case "doneDate": w.WriteNumberValue(DoneDate(v.Torrent)); break;
            case "downloadDir": w.WriteStringValue(o.SavePath); break;
            case "downloadedEver": w.WriteNumberValue(s.Downloaded); break;
            case "downloadLimit": w.WriteNumberValue(o.DownloadRateLimit / TransmissionUnits.SpeedBytes); break;
            case "downloadLimited": w.WriteBooleanValue(o.DownloadRateLimit > 0); break;
            case "error": w.WriteNumberValue(v.Error); break;
            case "errorString": w.WriteStringValue(v.ErrorString); break;
            case "eta": w.WriteNumberValue(v.Eta); break;
            case "files": WriteFiles(w, v, stats: false); break;
            case "fileStats": WriteFiles(w, v, stats: true); break;
            case "hashString": w.WriteStringValue(NodeService.IdOf(v.Torrent)); break;
            case "haveUnchecked": w.WriteNumberValue(0); break;
            case "haveValid": w.WriteNumberValue(v.HaveValid); break;
            case "honorsSessionLimits": w.WriteBooleanValue(true); break;
            case "id": w.WriteNumberValue(v.Number); break;
            case "isFinished": w.WriteBooleanValue(false); break; // Transmission's "stopped at its seed limit": PeerNet seeds on
            case "isPrivate": w.WriteBooleanValue(m?.IsPrivate ?? false); break;
            case "isStalled": w.WriteBooleanValue(false); break;
            case "labels": w.WriteStartArray(); w.WriteEndArray(); break;
            case "leftUntilDone": w.WriteNumberValue(v.LeftUntilDone); break;
            case "magnetLink": w.WriteStringValue(MagnetLink.Create(v.Torrent.InfoHashes, v.Torrent.Name, v.Torrent.GetTrackers().Select(t => t.Url).Distinct(StringComparer.Ordinal)).ToString()); break;
            case "metadataPercentComplete": w.WriteNumberValue(m is null ? 0 : 1); break;
            case "name": w.WriteStringValue(DisplayText.Sanitize(s.Name, 1000)); break;
            case "peer-limit": w.WriteNumberValue(o.MaxConnections); break;
            case "peers": WritePeers(w, v.Peers); break;
            case "peersConnected": w.WriteNumberValue(s.Peers); break;
            case "peersGettingFromUs": w.WriteNumberValue(v.Peers.Count(p => p.UploadRate >= 1 && !p.Flags.HasFlag(PeerFlags.WeChoke))); break;
            case "peersSendingToUs": w.WriteNumberValue(v.Peers.Count(p => p.DownloadRate >= 1 && !p.Flags.HasFlag(PeerFlags.ChokesUs))); break;
            case "percentDone": w.WriteNumberValue(v.SizeWhenDone == 0 ? (m is null ? 0.0 : 1.0) : (double)(v.SizeWhenDone - v.LeftUntilDone) / v.SizeWhenDone); break;
            case "pieceCount": w.WriteNumberValue(s.PieceCount); break;
            case "pieceSize": w.WriteNumberValue(s.PieceLength); break;
            case "priorities": WriteNumbers(w, v.Files.Select(f => FilePriorityChange.ToTransmission(f.Priority))); break;
            case "queuePosition": w.WriteNumberValue(v.QueuePosition); break;
            case "rateDownload": w.WriteNumberValue((long)s.DownloadRate); break;
            case "rateUpload": w.WriteNumberValue((long)s.UploadRate); break;
            case "seedRatioLimit": w.WriteNumberValue(0); break;
            case "seedRatioMode": w.WriteNumberValue(2); break; // unlimited: PeerNet seeds until told to stop
            case "sizeWhenDone": w.WriteNumberValue(v.SizeWhenDone); break;
            case "status": w.WriteNumberValue((int)v.TransmissionStatus); break;
            case "totalSize": w.WriteNumberValue(m?.TotalSize ?? s.TotalSize); break;
            case "trackers": WriteTrackers(w, v.Torrent, stats: false); break;
            case "trackerStats": WriteTrackers(w, v.Torrent, stats: true); break;
            case "uploadedEver": w.WriteNumberValue(s.Uploaded); break;
            case "uploadLimit": w.WriteNumberValue(o.UploadRateLimit / TransmissionUnits.SpeedBytes); break;
            case "uploadLimited": w.WriteBooleanValue(o.UploadRateLimit > 0); break;
            case "uploadRatio": w.WriteNumberValue(v.UploadRatio); break;
            case "wanted": WriteNumbers(w, v.Files.Select(f => f.Priority > FilePriorities.Skip ? 1 : 0)); break;
            case "webseeds": w.WriteStartArray(); w.WriteEndArray(); break; // PeerNet fetches from no web seed
            case "webseedsSendingToUs": w.WriteNumberValue(0); break;
            default: throw new InvalidOperationException($"field {field} is listed but not written");
        }
    }

    private static void WriteNumbers(Utf8JsonWriter w, IEnumerable<int> values)
    {
        w.WriteStartArray();
        foreach (int value in values)
        {
            w.WriteNumberValue(value);
        }

        w.WriteEndArray();
    }

    private static void WriteFiles(Utf8JsonWriter w, TorrentView v, bool stats)
    {
        w.WriteStartArray();
        foreach (TorrentFileStatus f in v.Files)
        {
            w.WriteStartObject();
            w.WriteNumber("bytesCompleted", f.BytesVerified);
            if (stats)
            {
                w.WriteBoolean("wanted", f.Priority > FilePriorities.Skip);
                w.WriteNumber("priority", FilePriorityChange.ToTransmission(f.Priority));
            }
            else
            {
                w.WriteNumber("length", f.Length);
                w.WriteString("name", DisplayText.Sanitize(f.Path, 4096));
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    private static void WritePeers(Utf8JsonWriter w, IReadOnlyList<PeerStatus> peers)
    {
        w.WriteStartArray();
        foreach (PeerStatus p in peers)
        {
            PeerFlags f = p.Flags;
            IPAddress address = p.EndPoint.Address.IsIPv4MappedToIPv6 ? p.EndPoint.Address.MapToIPv4() : p.EndPoint.Address;
            bool downloadingFrom = p.DownloadRate >= 1 && !f.HasFlag(PeerFlags.ChokesUs);
            bool uploadingTo = p.UploadRate >= 1 && !f.HasFlag(PeerFlags.WeChoke);
            w.WriteStartObject();
            w.WriteString("address", address.ToString());
            w.WriteString("clientName", DisplayText.Sanitize(p.Client, 100));
            w.WriteBoolean("clientIsChoked", f.HasFlag(PeerFlags.ChokesUs));
            w.WriteBoolean("clientIsInterested", f.HasFlag(PeerFlags.WeAreInterested));
            w.WriteString("flagStr", FlagString(p, downloadingFrom, uploadingTo));
            w.WriteBoolean("isDownloadingFrom", downloadingFrom);
            w.WriteBoolean("isEncrypted", f.HasFlag(PeerFlags.Encrypted));
            w.WriteBoolean("isIncoming", f.HasFlag(PeerFlags.Incoming));
            w.WriteBoolean("isUploadingTo", uploadingTo);
            w.WriteBoolean("isUTP", f.HasFlag(PeerFlags.Utp));
            w.WriteBoolean("peerIsChoked", f.HasFlag(PeerFlags.WeChoke));
            w.WriteBoolean("peerIsInterested", f.HasFlag(PeerFlags.IsInterested));
            w.WriteNumber("port", p.EndPoint.Port);
            w.WriteNumber("progress", p.Progress);
            w.WriteNumber("rateToClient", (long)p.DownloadRate);
            w.WriteNumber("rateToPeer", (long)p.UploadRate);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>Transmission's peer letters that PeerNet can tell: D/d downloading from (or wanting to), U/u uploading to (or it wanting), K, ?, I incoming.</summary>
    private static string FlagString(PeerStatus p, bool downloadingFrom, bool uploadingTo)
    {
        PeerFlags f = p.Flags;
        var flags = new System.Text.StringBuilder(8);
        if (f.HasFlag(PeerFlags.Utp))
        {
            flags.Append('T'); // Transmission's order: T first, E before I
        }

        if (downloadingFrom)
        {
            flags.Append('D');
        }
        else if (f.HasFlag(PeerFlags.WeAreInterested) && f.HasFlag(PeerFlags.ChokesUs))
        {
            flags.Append('d');
        }

        if (uploadingTo)
        {
            flags.Append('U');
        }
        else if (f.HasFlag(PeerFlags.IsInterested) && f.HasFlag(PeerFlags.WeChoke))
        {
            flags.Append('u');
        }

        if (!f.HasFlag(PeerFlags.ChokesUs) && !f.HasFlag(PeerFlags.WeAreInterested))
        {
            flags.Append('K');
        }

        if (!f.HasFlag(PeerFlags.WeChoke) && !f.HasFlag(PeerFlags.IsInterested))
        {
            flags.Append('?');
        }

        if (f.HasFlag(PeerFlags.Encrypted))
        {
            flags.Append('E');
        }

        if (f.HasFlag(PeerFlags.Incoming))
        {
            flags.Append('I');
        }

        return flags.ToString();
    }

    private void WriteTrackers(Utf8JsonWriter w, TorrentHandle torrent, bool stats)
    {
        IReadOnlyList<TrackerStatus> trackers = torrent.GetTrackers();
        bool announcing = _node.Node.Options.Trackers && torrent.Options.UseTrackers;
        w.WriteStartArray();
        for (int i = 0; i < trackers.Count; i++)
        {
            TrackerStatus t = trackers[i];
            string url = DisplayText.Sanitize(t.Url, 2000);
            w.WriteStartObject();
            w.WriteString("announce", url);
            w.WriteNumber("id", i);
            w.WriteString("scrape", "");
            w.WriteNumber("tier", t.Tier);
            if (stats)
            {
                // PeerNet keeps no announce or scrape times: no "hasAnnounced" with a made-up date; the outcome is here.
                w.WriteNumber("announceState", announcing ? 1 : 0);
                w.WriteNumber("downloadCount", -1);
                w.WriteBoolean("hasAnnounced", false);
                w.WriteBoolean("hasScraped", false);
                w.WriteString("host", url);
                w.WriteBoolean("isBackup", false);
                w.WriteNumber("lastAnnouncePeerCount", 0);
                w.WriteString("lastAnnounceResult", DisplayText.Sanitize(t.LastError, 500) ?? (t.State == TrackerState.Working ? "Success" : ""));
                w.WriteNumber("lastAnnounceStartTime", 0);
                w.WriteBoolean("lastAnnounceSucceeded", t.State == TrackerState.Working);
                w.WriteNumber("lastAnnounceTime", 0);
                w.WriteBoolean("lastAnnounceTimedOut", false);
                w.WriteString("lastScrapeResult", "");
                w.WriteNumber("lastScrapeStartTime", 0);
                w.WriteBoolean("lastScrapeSucceeded", false);
                w.WriteNumber("lastScrapeTime", 0);
                w.WriteBoolean("lastScrapeTimedOut", false);
                w.WriteNumber("leecherCount", -1);
                w.WriteNumber("nextAnnounceTime", 0);
                w.WriteNumber("nextScrapeTime", 0);
                w.WriteNumber("scrapeState", 0);
                w.WriteNumber("seederCount", -1);
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    /// <summary>One torrent read once for a torrent-get: its status, and its files and peers when a field needs them.</summary>
    private sealed class TorrentView
    {
        private TorrentView(TorrentHandle torrent, TorrentStatus status)
        {
            Torrent = torrent;
            Status = status;
        }

        public TorrentHandle Torrent { get; }

        public TorrentStatus Status { get; }

        public IReadOnlyList<TorrentFileStatus> Files { get; private set; } = [];

        public IReadOnlyList<PeerStatus> Peers { get; private set; } = [];

        public long HaveValid { get; private set; }

        public long SizeWhenDone { get; private set; }

        public long LeftUntilDone { get; private set; }

        public int QueuePosition { get; set; }

        /// <summary>Its number for the RPC (<see cref="TransmissionIds"/>).</summary>
        public long Number { get; set; }

        public Status TransmissionStatus => Status.State switch
        {
            TorrentState.Checking => TransmissionMethods.Status.Check,
            TorrentState.Downloading or TorrentState.FetchingMetadata => TransmissionMethods.Status.Download,
            TorrentState.Seeding => TransmissionMethods.Status.Seed,
            _ => TransmissionMethods.Status.Stopped, // paused, stopped, or stopped by an error
        };

        /// <summary>Transmission's error kinds: 0 none, 2 a tracker error, 3 a local one.</summary>
        public int Error => Status.State == TorrentState.Error ? 3 : Status.TrackerError is not null ? 2 : 0;

        public string ErrorString => Error switch
        {
            3 => DisplayText.Sanitize(Status.Error, 1000) ?? "",
            2 => DisplayText.Sanitize(Status.TrackerError, 1000) ?? "",
            _ => "",
        };

        /// <summary>Seconds left: -1 when there is nothing left (Transmission's "not available"), -2 when nothing arrives ("unknown").</summary>
        public long Eta => LeftUntilDone == 0 ? -1 : Status.DownloadRate >= 1 ? (long)(LeftUntilDone / Status.DownloadRate) : -2;

        /// <summary>Uploaded over downloaded (over what is verified, for a torrent that downloaded nothing); -1 none, -2 infinite.</summary>
        public double UploadRatio
        {
            get
            {
                long down = Status.Downloaded > 0 ? Status.Downloaded : HaveValid;
                return down > 0 ? (double)Status.Uploaded / down : Status.Uploaded == 0 ? -1 : -2;
            }
        }

        public static async Task<TorrentView> ReadAsync(TorrentHandle torrent, bool peers, bool files, bool sizes, CancellationToken ct)
        {
            var view = new TorrentView(torrent, torrent.GetStatus());
            TorrentStatus s = view.Status;
            TorrentMetainfo? m = torrent.Metainfo;
            bool running = s.State is TorrentState.Downloading or TorrentState.Seeding;
            if (peers && running && s.Peers > 0)
            {
                view.Peers = await torrent.GetPeersAsync(ct);
            }

            // Exact sizes need the files' verified bytes, which only a running torrent reports: asked for when some file is
            // skipped or a pad file (whose bytes are in the piece count but never in the data).
            bool partial = m is not null && (m.Files.Any(f => f.IsPadFile) || torrent.Options.FilePriorities?.Any(p => p == FilePriorities.Skip) == true);
            if (files || (sizes && partial && running))
            {
                view.Files = await torrent.GetFilesAsync(ct);
            }

            if (m is null)
            {
                return view; // nothing known before the metadata
            }

            if (running && view.Files.Count > 0)
            {
                view.HaveValid = view.Files.Sum(f => f.BytesVerified);
                view.SizeWhenDone = view.Files.Where(f => f.Priority > FilePriorities.Skip).Sum(f => f.Length);
                view.LeftUntilDone = view.Files.Where(f => f.Priority > FilePriorities.Skip).Sum(f => f.Length - f.BytesVerified);
                return view;
            }

            // From the piece count: exact when every piece or none is verified, else within a piece of the truth.
            long dataSize = m.Files.Where(f => !f.IsPadFile).Sum(f => f.Length);
            view.HaveValid = s.PieceCount > 0 && s.PiecesVerified >= s.PieceCount ? dataSize : Math.Min(s.PiecesVerified * s.PieceLength, dataSize);
            IReadOnlyList<int>? priorities = torrent.Options.FilePriorities;
            view.SizeWhenDone = priorities is null || priorities.Count != m.Files.Count ? dataSize : m.Files.Where((f, i) => !f.IsPadFile && priorities[i] > FilePriorities.Skip).Sum(f => f.Length);
            view.LeftUntilDone = s.PieceCount > 0 && s.PiecesVerified >= s.PieceCount ? 0 : Math.Max(0, view.SizeWhenDone - view.HaveValid);
            return view;
        }
    }
}
