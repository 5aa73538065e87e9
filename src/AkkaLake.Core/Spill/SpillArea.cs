using AkkaLake.Core.Layout;
using AkkaLake.Core.Replication;

namespace AkkaLake.Core.Spill;

/// <summary>
/// Where shard-day writers spill sorted runs: <c>akkalake-spill/&lt;run&gt;/</c> under the scratch
/// path (<c>CORE_ANALYSIS_TMP_PATH</c>, which the controller's analysis jobs share, hence a
/// directory of AkkaLake's own), a file per shard-day. Nothing there is part of the lake; a batch
/// deletes its own directory when it ends, and a writer opening the lake clears what a crash left.
/// </summary>
public static class SpillArea
{
    public const string DirectoryName = "akkalake-spill";

    public static string RunDirectory(string tmpPath, string runId) => Path.Combine(tmpPath, DirectoryName, runId);

    public static string FileFor(string tmpPath, string runId, ShardDay shardDay) =>
        Path.Combine(RunDirectory(tmpPath, runId), $"{LakeLayout.DateKey(shardDay.Date)}-{LakeLayout.ShardKey(shardDay.Shard)}.run");

    /// <summary>Deletes what earlier runs spilled (the caller holds the writer lock); how many files went.</summary>
    public static int Clear(string tmpPath)
    {
        var root = Path.Combine(tmpPath, DirectoryName);
        if (!Directory.Exists(root)) return 0;
        var files = Directory.GetFiles(root, "*", SearchOption.AllDirectories).Length;
        Directory.Delete(root, recursive: true);
        return files;
    }

    public static void DeleteRun(string tmpPath, string runId)
    {
        try
        {
            Directory.Delete(RunDirectory(tmpPath, runId), recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Cleared at the next start.
        }
    }
}
