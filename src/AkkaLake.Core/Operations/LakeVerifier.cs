using AkkaLake.Core.Layout;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using AkkaLake.Core.Recovery;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Operations;

/// <summary>One thing wrong with the lake, with the file it concerns.</summary>
public sealed record VerifyProblem(string Kind, LakeLocation Location, string Path, string Detail)
{
    public const string Missing = "missing";
    public const string WrongSize = "wrong-size";
    public const string Unreadable = "unreadable";
    public const string WrongRows = "wrong-row-count";
    public const string Unsorted = "unsorted";
    public const string Unreferenced = "unreferenced";
    public const string Foreign = "foreign";
    public const string WrongSchema = "wrong-schema";
    public const string Changed = "changed";
}

/// <summary>What verify found, and the files it could not check because their location is out of reach.</summary>
public sealed record VerifyReport(int Files, IReadOnlyList<VerifyProblem> Problems, IReadOnlyList<UncheckedLocation> Unchecked);

/// <summary>A location whose committed files were not checked: no cold path is known, or the NAS is not mounted.</summary>
public sealed record UncheckedLocation(LakeLocation Location, int Files, string Reason);

/// <summary>
/// Checks the lake against its manifest: every committed file exists with the recorded size, the
/// lake's column types, a readable footer and row count, sorted rows; no <c>*.parquet</c>,
/// superseded or <c>.tmp</c> files sit in partition directories that no commit references. Reads only.
/// </summary>
public sealed class LakeVerifier(LakeRoots roots)
{
    public VerifyReport Verify(LakeManifest manifest, Action<int, int>? progress = null)
    {
        var problems = new List<VerifyProblem>();
        var all = manifest.Files().ToList();
        var coldUnreachable = ColdUnreachable();
        var files = coldUnreachable is null ? all : all.Where(f => f.Location != LakeLocation.Cold).ToList();
        for (var i = 0; i < files.Count; i++)
        {
            CheckFile(files[i], problems);
            progress?.Invoke(i + 1, files.Count);
        }
        problems.AddRange(StrayFiles.Find(manifest, roots).Select(f => f.Kind == StrayKind.Foreign
            ? new VerifyProblem(VerifyProblem.Foreign, f.Location, f.RelativePath, "not in the manifest, yet readers that list the directory read it as part of the lake")
            : new VerifyProblem(VerifyProblem.Unreferenced, f.Location, f.RelativePath, "no commit references this file")));
        var coldFiles = all.Count - files.Count;
        return new VerifyReport(files.Count, problems, coldFiles > 0 ? [new UncheckedLocation(LakeLocation.Cold, coldFiles, coldUnreachable!)] : []);
    }

    /// <summary>Why the cold files cannot be checked, or null when they can: an absent NAS is not a lake that lost its files.</summary>
    private string? ColdUnreachable() => roots.Cold switch
    {
        null => "no cold path is configured or remembered by the lake: pass --cold-path or set CORE_ANALYSIS_LAKE_COLD_PATH",
        { } cold when !ColdMarker.IsPresent(cold) => $"the cold path {cold} is not reachable or lacks its {ColdMarker.FileName} marker (is the NAS mounted?)",
        _ => null,
    };

    /// <summary>A file the first implementation wrote keeps its own columns until the takeover rebuilds its day: its footer is checked.</summary>
    private static void CheckAdoptedFile(CommittedFile f, string path, List<VerifyProblem> problems)
    {
        try
        {
            using var reader = new ParquetSharp.ParquetFileReader(path);
            if (reader.FileMetaData.NumRows != f.File.Rows)
                problems.Add(new VerifyProblem(VerifyProblem.WrongRows, f.Location, f.RelativePath, $"{reader.FileMetaData.NumRows} rows in the footer, the manifest records {f.File.Rows}"));
        }
        catch (ParquetSharp.ParquetException e)
        {
            problems.Add(new VerifyProblem(VerifyProblem.Unreadable, f.Location, f.RelativePath, e.Message));
        }
    }

    private void CheckFile(CommittedFile f, List<VerifyProblem> problems)
    {
        var path = roots.Resolve(f.Location, f.RelativePath);
        if (!File.Exists(path))
        {
            problems.Add(new VerifyProblem(VerifyProblem.Missing, f.Location, f.RelativePath, "the file does not exist"));
            return;
        }
        var size = new FileInfo(path).Length;
        if (size != f.File.Bytes)
            problems.Add(new VerifyProblem(VerifyProblem.WrongSize, f.Location, f.RelativePath, $"{size} bytes, the manifest records {f.File.Bytes}"));
        if (f.File.IsFirstImplementation)
        {
            CheckAdoptedFile(f, path, problems);
            return;
        }
        // A file of the right size can still have changed; what follows says how, where it can.
        if (size == f.File.Bytes && f.File.Xxh3 is { } committed && FileChecksum.Of(path) is var actual && actual != committed)
            problems.Add(new VerifyProblem(VerifyProblem.Changed, f.Location, f.RelativePath,
                $"its content is not what was committed (xxh3 {actual}, committed {committed}): damaged on disk or overwritten; 'akkalake backfill --from {LakeLayout.DateKey(f.Date)} --to {LakeLayout.DateKey(f.Date)} --replace' rewrites the day"));
        try
        {
            using var reader = new PartReader(path);
            if (reader.SchemaDifference() is { } difference)
                problems.Add(new VerifyProblem(VerifyProblem.WrongSchema, f.Location, f.RelativePath, $"{difference}; 'akkalake backfill --from {LakeLayout.DateKey(f.Date)} --to {LakeLayout.DateKey(f.Date)} --replace' rewrites the day"));
            if (reader.RowCount != f.File.Rows)
                problems.Add(new VerifyProblem(VerifyProblem.WrongRows, f.Location, f.RelativePath, $"{reader.RowCount} rows in the footer, the manifest records {f.File.Rows}"));
            string? lastId = null;
            long lastTs = 0;
            foreach (var batch in reader.ReadBatches(65_536))
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    if (lastId is not null && MetricRows.CompareKeys(lastId, lastTs, batch.SensorIds[i], batch.TsMicros[i]) > 0)
                    {
                        problems.Add(new VerifyProblem(VerifyProblem.Unsorted, f.Location, f.RelativePath, $"row for {batch.SensorIds[i]} is out of (sensor_id, ts) order"));
                        return;
                    }
                    lastId = batch.SensorIds[i];
                    lastTs = batch.TsMicros[i];
                }
            }
        }
        catch (Exception e) when (e is ParquetSharp.ParquetException or InvalidDataException or IOException)
        {
            problems.Add(new VerifyProblem(VerifyProblem.Unreadable, f.Location, f.RelativePath, e.Message));
        }
    }
}
