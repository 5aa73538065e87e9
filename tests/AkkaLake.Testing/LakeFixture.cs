using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Storage;

namespace AkkaLake.Testing;

/// <summary>A lake on disk driven through the real commit protocol, without actors.</summary>
public sealed class LakeFixture : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    /// <summary>The UTC date of <see cref="T0"/>.</summary>
    public static readonly DateOnly Today = DateOnly.FromDateTime(T0.UtcDateTime);

    /// <summary>Five sensors' readings at one minute of a day, valued by the minute.</summary>
    public static IEnumerable<(string Id, long Ts, double Value)> FiveSensorsAt(DateOnly day, int minute) =>
        Enumerable.Range(0, 5).Select(s => ($"sensor-{s}", Core.Timestamps.ToMicros(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).AddMinutes(minute)), (double)minute));
    private readonly TempDirectory _dir = new();
    private int _runs;

    public LakeFixture(bool withCold = true)
    {
        Roots = new LakeRoots(_dir.Combine("hot"), withCold ? _dir.Combine("cold") : null);
        if (withCold) Directory.CreateDirectory(Roots.Cold!);
        Store = new ManifestStore(Path.Combine(Roots.Hot, "_state"));
        Manifest = LakeManifest.Create(1, T0);
        Store.Save(Manifest);
    }

    public LakeRoots Roots { get; }
    public ManifestStore Store { get; }
    public LakeManifest Manifest { get; set; }

    /// <summary>Commits one incremental part holding these rows (all one shard: the lake has one shard).</summary>
    public StagedPart Tick(DateOnly day, IEnumerable<(string Id, long Ts, double Value)> rows, LakeLocation? at = null)
    {
        var location = at ?? LakeLocation.Hot;
        var run = $"R{++_runs:D5}";
        var data = new MetricRows();
        foreach (var (id, ts, v) in rows) data.Add(id, ts, v, null, null, null);
        data.Sort();
        var meta = new PartMetadata(run, CommitKind.Replication, T0, T0.AddSeconds(_runs));
        var name = LakeLayout.FileName(PartKind.Incremental, run, 0);
        var tmp = Roots.Resolve(location, LakeLayout.FilePath(day, 0, name)) + ".tmp";
        var part = new StagedPart(day, 0, location, name, PartWriter.Write(tmp, data, meta, 1000), meta);
        Manifest = new LakeCommitter(Store, Roots).Commit(Manifest, new LakeCommit(CommitKind.Replication, run, [], [], T0.AddSeconds(_runs)), [part], T0, TimeSpan.Zero);
        return part;
    }

    public IReadOnlyList<LakeRow> Rows() => LakeDuckDb.ReadManifest(Manifest, Roots.Hot, Roots.Cold);

    public (LakeManifest, RecoveryReport) Restart()
    {
        var (m, report) = new LakeRecovery(Store, Roots).Recover(Store.Load()!, T0.AddDays(1));
        Manifest = m;
        return (m, report);
    }

    /// <summary>Files on disk are exactly those the manifest references, in both locations.</summary>
    public bool DiskMatchesManifest()
    {
        foreach (var (location, root) in new[] { (LakeLocation.Hot, Roots.Hot), (LakeLocation.Cold, Roots.Cold) })
        {
            if (root is null) continue;
            var dir = Path.Combine(root, "metrics");
            var onDisk = Directory.Exists(dir)
                ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(root, p).Replace('\\', '/')).ToHashSet()
                : [];
            if (!onDisk.SetEquals(Manifest.ReferencedPaths(location))) return false;
        }
        return true;
    }

    public void Dispose() => _dir.Dispose();
}
