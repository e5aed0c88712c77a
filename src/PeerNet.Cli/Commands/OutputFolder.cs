namespace PeerNet.Cli.Commands;

/// <summary>
/// <c>get -o DIR</c>: the folder is created and proved writable before a socket opens, so a download that could never
/// be saved fails at once with a line that says why instead of after it has found peers.
/// </summary>
internal static class OutputFolder
{
    /// <summary>Creates <paramref name="folder"/> if needed and writes (and deletes) a probe file in it.</summary>
    public static void Prepare(string folder)
    {
        if (File.Exists(folder))
        {
            throw new IOException($"'{folder}' is a file, not a folder: give a folder with -o DIR.");
        }

        try
        {
            Directory.CreateDirectory(folder);
            string probe = Path.Combine(folder, $".peernet-write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"no permission to write in '{folder}': choose another folder with -o DIR.", e);
        }
        catch (IOException e) when (e is not PathTooLongException)
        {
            throw new IOException($"cannot write in '{folder}': {e.Message}", e);
        }
    }
}
