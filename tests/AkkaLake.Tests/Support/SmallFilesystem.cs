using AkkaLake.Testing;

namespace AkkaLake.Tests.Support;

/// <summary>
/// A real, small filesystem (tmpfs) to run out of space on. Mounting needs root, which the CI
/// runs as; the constructor fails with that explanation elsewhere.
/// </summary>
public sealed class SmallFilesystem : IDisposable
{
    private readonly TempDirectory _dir = new();

    public SmallFilesystem(string size)
    {
        Path = _dir.Combine("fs");
        Directory.CreateDirectory(Path);
        Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0755", "tmpfs", Path);
    }

    public string Path { get; }

    private string Filler => System.IO.Path.Combine(Path, "filler");

    public void Resize(string size) => Run("mount", "-o", $"remount,size={size}", Path);

    /// <summary>Takes every free byte, as another program filling the disk would.</summary>
    public void Fill()
    {
        using var filler = new FileStream(Filler, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        foreach (var size in new[] { 64 * 1024, 4096, 1 })
        {
            var block = new byte[size];
            try
            {
                while (true) filler.Write(block);
            }
            catch (IOException)
            {
            }
        }
    }

    public void Free() => File.Delete(Filler);

    public void Dispose()
    {
        try { Run("umount", "-l", Path); } catch (InvalidOperationException) { }
        _dir.Dispose();
    }

    private static void Run(string command, params string[] args)
    {
        var (exitCode, output) = ChildProcess.Run(command, args);
        if (exitCode != 0)
            throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed (the disk-full tests need root to mount a tmpfs): {output}");
    }
}
