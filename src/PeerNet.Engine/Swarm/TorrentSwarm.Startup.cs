using PeerNet.Storage;

namespace PeerNet.Swarm;

internal sealed partial class TorrentSwarm
{
    private readonly ResumeStore? _resume;
    private bool _resumeDirty;

    /// <summary>Pieces found verified on disk at start-up (from resume data or a check).</summary>
    public int PiecesFoundAtStart { get; private set; }

    /// <summary>
    /// Finds what is already on disk: resume data is trusted only where files are unchanged, pieces of
    /// changed files are rechecked, and without resume data (or with <see cref="TorrentOptions.Recheck"/>)
    /// everything present is checked. Verified pieces are never downloaded again.
    /// </summary>
    private async Task CheckExistingDataAsync(CancellationToken cancellationToken)
    {
        State = TorrentState.Checking;
        PieceBitfield? recheck = null;
        bool fullCheck = true;
        bool resumeCurrent = false; // the resume data on disk says all there is to say: nothing to save again
        if (_resume is not null && !Options.Recheck)
        {
            ResumeLoadResult loaded = _resume.Load(Storage);
            if (loaded.Loaded)
            {
                fullCheck = false;
                for (int i = 0; i < PieceCount; i++)
                {
                    if (loaded.Trusted[i])
                    {
                        _have.Set(i);
                    }
                }

                // A file changed since the save (a crash after the last save, or an edit): every piece of it is
                // checked, not only those the resume data trusted, so verified data written after the last
                // save is found rather than fetched again.
                recheck = loaded.Recheck;
                foreach (int file in loaded.ChangedFiles)
                {
                    PieceRange range = Storage.Map.GetPieceRange(file);
                    for (int piece = range.First; piece < range.First + range.Count; piece++)
                    {
                        if (!_have[piece])
                        {
                            recheck.Set(piece);
                        }
                    }
                }

                recheck = recheck.SetCount > 0 ? recheck : null;
                resumeCurrent = recheck is null && loaded.ChangedFiles.Count == 0;
            }
        }

        if (fullCheck || recheck is not null)
        {
            CheckResult result = await _verifier.CheckAsync(Storage, fullCheck ? null : recheck, Options.CheckProgress, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < PieceCount; i++)
            {
                if (result.Verified[i])
                {
                    _have.Set(i);
                }
            }
        }

        if (Options.FilePriorities is { } priorities)
        {
            _picker.SetFilePriorities(Metainfo.Files, [.. priorities]);
        }

        _picker.Sequential = Options.Sequential;
        _layers.FindMissing();
        for (int i = 0; i < PieceCount; i++)
        {
            if (_have[i])
            {
                _picker.OnHashPassed(i);
            }
        }

        PiecesFoundAtStart = _have.SetCount;
        _haveChanged = true;
        SwarmLog.Started(Log, _logName, PiecesFoundAtStart, PieceCount);
        if (IsWantedComplete)
        {
            CreateEmptyFiles();
            State = TorrentState.Seeding;
            PublishStatus();
            _completed.TrySetResult();
            Observer?.Completed();
        }
        else if (Storage.IsReadOnly)
        {
            // Seeding data in place that is incomplete: serve what verified, never write.
            State = TorrentState.Seeding;
        }
        else
        {
            State = TorrentState.Downloading;
        }

        if (!resumeCurrent)
        {
            SaveResume(); // a node restarting with many torrents writes (and syncs) nothing for those whose data is as saved
        }

        PublishStatus(); // before the loop starts: from here on the loop publishes
    }

    /// <summary>Zero-length files hold no piece, so nothing else creates them.</summary>
    private void CreateEmptyFiles()
    {
        if (Storage.IsReadOnly)
        {
            return;
        }

        try
        {
            Storage.CreateEmptyFiles();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(e);
        }
    }

    private void SaveResume()
    {
        _resumeDirty = false;
        if (_resume is null || Storage.IsReadOnly)
        {
            return;
        }

        try
        {
            _resume.Save(ResumeData.Capture(Storage, _have, Time));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Resume data is an optimisation: without it the next start checks the files instead.
            _resumeDirty = true;
        }
    }
}
