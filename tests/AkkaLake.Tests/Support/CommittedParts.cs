using AkkaLake.Core;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Replication;

namespace AkkaLake.Tests.Support;

/// <summary>Part files written as a commit leaves them, for tests of what reads and rewrites committed files.</summary>
public static class CommittedParts
{
    /// <summary>A part at <paramref name="path"/> holding these readings (sorted), with its manifest entry.</summary>
    public static CommittedPart Write(string path, long version, params (string Id, long Ts, double Value)[] rows)
    {
        var data = new MetricRows();
        foreach (var (id, ts, v) in rows) data.Add(id, ts, v, 0, null, null);
        data.Sort();
        var written = PartWriter.Write(path + ".tmp", data, new PartMetadata("R0", CommitKind.Replication, null, DateTimeOffset.UnixEpoch), 1000);
        File.Move(written.TmpPath, path);
        return new CommittedPart(new PartFile(Path.GetFileName(path), written.Rows, written.Bytes, Timestamps.FromMicros(written.MinTsMicros), Timestamps.FromMicros(written.MaxTsMicros),
            null, DateTimeOffset.UnixEpoch, 1, "R0", 0, version), path);
    }
}
