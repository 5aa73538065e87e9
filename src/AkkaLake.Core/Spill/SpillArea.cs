using System.IO.Hashing;
using System.Text;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Replication;

namespace AkkaLake.Core.Spill;

/// <summary>
/// Where shard-day writers spill sorted runs: <c>akkalake-spill/lake-&lt;key&gt;/&lt;process&gt;/&lt;run&gt;/</c>
/// under the scratch path (<c>CORE_ANALYSIS_TMP_PATH</c>, which the controller's analysis jobs and
/// other lakes under the same data root share), a file per shard-day. The lake's key is a hash of
/// its hot path (spelled out in full, no file system call), so writers of one lake never touch another's scratch; the process's
/// name holds its pid and a token drawn when it started, so a pid reused after a crash is another
/// process. Nothing there is part of the lake: a batch deletes its own directory when it ends,
/// and a writer opening the lake clears what other, ended, processes of the lake left.
/// </summary>
public sealed class SpillArea(string tmpPath, string hotPath)
{
    public const string DirectoryName = "akkalake-spill";

    /// <summary>Entries of builds that spilled straight into <see cref="DirectoryName"/> are cleared once nothing touched them for this long.</summary>
    private static readonly TimeSpan LegacyAge = TimeSpan.FromDays(1);

    /// <summary>This process's directory name.</summary>
    public static readonly string ThisProcess = $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";

    public string Root => Path.Combine(tmpPath, DirectoryName);

    public string LakeDirectory => Path.Combine(Root, "lake-" + LakeKey(hotPath));

    public string ProcessDirectory => Path.Combine(LakeDirectory, ThisProcess);

    public string RunDirectory(string runId) => Path.Combine(ProcessDirectory, runId);

    public string FileFor(string runId, ShardDay shardDay) =>
        Path.Combine(RunDirectory(runId), $"{LakeLayout.DateKey(shardDay.Date)}-{LakeLayout.ShardKey(shardDay.Shard)}.run");

    private static string LakeKey(string hotPath) =>
        XxHash3.HashToUInt64(Encoding.UTF8.GetBytes(Path.GetFullPath(hotPath))).ToString("x16");

    /// <summary>
    /// Deletes what ended processes of this lake spilled, and the leftovers of older builds; how
    /// many files went. The caller holds the lake's writer lock, so no other live process spills
    /// for this lake; this process's own directory (a batch under way while its coordinator opens
    /// the lake again) and other lakes' are left alone.
    /// </summary>
    public int ClearLeftovers(DateTimeOffset now)
    {
        var files = 0;
        if (Directory.Exists(LakeDirectory))
            foreach (var process in Directory.GetDirectories(LakeDirectory))
                if (Path.GetFileName(process) != ThisProcess)
                    files += DeleteTree(process);
        if (Directory.Exists(Root))
            foreach (var entry in Directory.GetFileSystemEntries(Root))
                if (!Path.GetFileName(entry).StartsWith("lake-", StringComparison.Ordinal) && now - Directory.GetLastWriteTimeUtc(entry) > LegacyAge)
                    files += DeleteTree(entry);
        return files;
    }

    /// <summary>Deletes a batch's scratch; what cannot go now is cleared at the next start.</summary>
    public void DeleteRun(string runId)
    {
        try
        {
            Directory.Delete(RunDirectory(runId), recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static int DeleteTree(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            return 1;
        }
        var files = Directory.GetFiles(path, "*", SearchOption.AllDirectories).Length;
        Directory.Delete(path, recursive: true);
        return files;
    }
}
