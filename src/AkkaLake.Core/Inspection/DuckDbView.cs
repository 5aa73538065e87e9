using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Inspection;

/// <summary>
/// The committed view of the lake for DuckDB: exactly the manifest's files, hot and cold, with
/// <c>date</c> and <c>shard</c> columns, matched by column name (so a lake under takeover, whose
/// first-implementation files lack <c>samples</c> and <c>source</c>, reads as one table).
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
        return $"CREATE OR REPLACE VIEW {Name} AS SELECT sensor_id, ts, value, quality, samples, source, CAST(date AS DATE) AS date, CAST(shard AS VARCHAR) AS shard\nFROM read_parquet([\n  {list}\n], hive_partitioning = true, hive_types_autocast = false, union_by_name = true);";
    }
}
