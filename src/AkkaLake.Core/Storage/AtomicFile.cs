namespace AkkaLake.Core.Storage;

/// <summary>
/// Crash-safe file operations: data goes to a <c>.tmp</c> beside the target, is flushed to disk,
/// renamed over the target, and the directory is synced. A crash leaves either the old file or
/// the new one, plus at most a <c>.tmp</c> that recovery removes.
/// </summary>
public static class AtomicFile
{
    public const string TmpSuffix = ".tmp";

    public static void WriteAllBytes(string path, byte[] content) => Write(path, stream => stream.Write(content));

    /// <summary>
    /// Writes the file through <paramref name="write"/>, which streams into it: a large state file
    /// (a manifest of many files) never needs to be held whole in memory.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var tmp = path + TmpSuffix;
        // Opened outside the try: a .tmp this call could not open is not its own to delete.
        var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        try
        {
            using (stream)
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            RestrictToOwner(tmp);
        }
        catch
        {
            DeleteQuietly(tmp);
            throw;
        }
        File.Move(tmp, path, overwrite: true);
        NativeFileSystem.SyncDirectory(directory);
    }

    /// <summary>Renames a finished, already flushed <c>.tmp</c> to its final name and syncs the directory.</summary>
    public static void Publish(string tmpPath, string finalPath)
    {
        File.Move(tmpPath, finalPath, overwrite: false);
        NativeFileSystem.SyncDirectory(Path.GetDirectoryName(finalPath)!);
    }

    /// <summary>
    /// Renames a file within its directory (replacing <paramref name="to"/>) and syncs the
    /// directory; a file already gone is left so, which makes a repeated rename after a crash harmless.
    /// </summary>
    public static void Rename(string from, string to)
    {
        if (!File.Exists(from)) return;
        File.Move(from, to, overwrite: true);
        NativeFileSystem.SyncDirectory(Path.GetDirectoryName(to)!);
    }

    /// <summary>Opens a new <c>.tmp</c> in the target directory for a writer that flushes it itself.</summary>
    public static FileStream CreateTmp(string tmpPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(tmpPath)!);
        return new FileStream(tmpPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 20);
    }

    /// <summary>
    /// Copies a file to another directory (possibly another filesystem) as <c>.tmp</c>, flushes it,
    /// checks its size, and renames it into place. The source is left alone.
    /// </summary>
    public static void CopyAcross(string source, string destination, Action<string>? verifyTmp = null)
    {
        var directory = Path.GetDirectoryName(destination)!;
        Directory.CreateDirectory(directory);
        var tmp = destination + TmpSuffix;
        try
        {
            using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            using (var output = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                input.CopyTo(output);
                output.Flush(flushToDisk: true);
            }
            var expected = new FileInfo(source).Length;
            var actual = new FileInfo(tmp).Length;
            if (expected != actual)
                throw new IOException($"Copy of {source} to {destination} is {actual} bytes, expected {expected}; copy discarded.");
            verifyTmp?.Invoke(tmp);
        }
        catch
        {
            DeleteQuietly(tmp);
            throw;
        }
        File.Move(tmp, destination, overwrite: true);
        NativeFileSystem.SyncDirectory(directory);
    }

    private static void RestrictToOwner(string path)
    {
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>
    /// Removes an unfinished <c>.tmp</c> after a failed write, so a full disk is not kept full by
    /// it; if even that fails, recovery removes it at the next start.
    /// </summary>
    public static void DeleteQuietly(string tmp)
    {
        try { File.Delete(tmp); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
