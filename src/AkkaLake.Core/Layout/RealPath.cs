namespace AkkaLake.Core.Layout;

/// <summary>
/// A path with its symbolic links resolved, like realpath(3) but also for paths that do not
/// exist yet (the missing tail is kept as given). Used to tell whether two configured roots
/// overlap, which a symlink can hide from a plain string comparison.
/// </summary>
public static class RealPath
{
    private const int MaxLinks = 40;

    public static string Of(string path) => Resolve(Path.GetFullPath(path), 0);

    private static string Resolve(string fullPath, int depth)
    {
        var root = Path.GetPathRoot(fullPath)!;
        var current = root;
        foreach (var part in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            var link = Path.Exists(next) ? new FileInfo(next).LinkTarget : null;
            if (link is null)
            {
                current = next;
                continue;
            }
            if (depth >= MaxLinks)
                throw new IOException($"Too many levels of symbolic links resolving {fullPath}.");
            current = Resolve(Path.GetFullPath(link, current), depth + 1);
        }
        return Path.TrimEndingDirectorySeparator(current);
    }
}
