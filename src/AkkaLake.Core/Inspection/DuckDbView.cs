using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Inspection;

/// <summary>
/// The committed view of the lake for DuckDB: exactly the manifest's files, hot and cold, with
/// <c>date</c> and <c>shard</c> columns. During a takeover, columns are matched by name, so the
/// first implementation's files (no <c>samples</c> or <c>source</c>) read as one table with the rest.
/// </summary>
public static class DuckDbView
{
    public const string Name = "metrics";

    public static string CreateStatement(LakeManifest manifest, LakeSettings settings)
    {
        var roots = new Layout.LakeRoots(settings.HotPath, settings.ColdPath);
        var files = manifest.Files().Select(f => roots.Resolve(f.Location, f.RelativePath)).ToList();
        if (files.Count == 0)
            return $"CREATE OR REPLACE VIEW {Name} AS SELECT NULL::VARCHAR AS sensor_id, NULL::TIMESTAMP AS ts, NULL::DOUBLE AS value, NULL::INTEGER AS quality, NULL::INTEGER AS samples, NULL::VARCHAR AS source, NULL::DATE AS date, NULL::VARCHAR AS shard WHERE false;";
        var list = string.Join(",\n  ", files.Select(f => "'" + f.Replace("'", "''", StringComparison.Ordinal) + "'"));
        // Matching columns by name reads every footer when the view is bound: only while files of another schema are in the lake.
        var byName = manifest.Files().Any(f => f.File.IsFirstImplementation) ? ", union_by_name = true" : "";
        return $"CREATE OR REPLACE VIEW {Name} AS SELECT sensor_id, ts, value, quality, samples, source, CAST(date AS DATE) AS date, CAST(shard AS VARCHAR) AS shard\nFROM read_parquet([\n  {list}\n], hive_partitioning = true, hive_types_autocast = false{byName});";
    }
}
