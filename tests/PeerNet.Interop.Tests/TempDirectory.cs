namespace PeerNet.Interop.Tests;

/// <summary>
/// A fresh folder under <c>$TMPDIR/peernet-tests</c>, deleted on dispose (kept when PEERNET_KEEP_TEMP=1, to
/// inspect a failure).
/// </summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory(string prefix = "t")
    {
        string safe = new([.. prefix.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '-')]);
        FullPath = System.IO.Path.Combine(Root, $"{safe}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(FullPath);
    }

    /// <summary>Parent of every test folder.</summary>
    public static string Root => System.IO.Path.Combine(System.IO.Path.GetTempPath(), "peernet-tests");

    public string FullPath { get; }

    /// <summary>A path inside this folder.</summary>
    public string Combine(params string[] parts) => System.IO.Path.Combine([FullPath, .. parts]);

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("PEERNET_KEEP_TEMP") == "1")
        {
            return;
        }

        try
        {
            Directory.Delete(FullPath, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
            // Best effort: a process we started may still hold a file; the OS cleans $TMPDIR eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
