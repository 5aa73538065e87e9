using System.Runtime.InteropServices;

namespace AkkaLake.Core.Storage;

/// <summary>The one POSIX call .NET lacks: fsync of a directory, so a rename survives power loss.</summary>
internal static partial class NativeFileSystem
{
    private const int ReadOnly = 0;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    public static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return;
        var fd = Open(directory, ReadOnly);
        if (fd < 0)
            throw new IOException($"Could not open directory {directory} to sync it (errno {Marshal.GetLastPInvokeError()}).");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"Could not sync directory {directory} (errno {Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            Close(fd);
        }
    }
}
