using System.Globalization;
using System.Text;
using AkkaLake.Core.Layout;
using AkkaLake.Testing;
using Npgsql;

namespace AkkaLake.Tests.Support;

/// <summary>
/// Writes a lake as the controller's first implementation did (shared/CONTEXT.md): DuckDB
/// <c>COPY … (FORMAT PARQUET, PARTITION_BY (date, shard), COMPRESSION ZSTD)</c> of
/// <c>sensor_id, ts TIMESTAMP (UTC wall clock), value, quality INTEGER (NULL as 0),
/// inserted_at TIMESTAMP (COALESCE(inserted_at, ts))</c>, sorted by (sensor_id, ts), with its
/// manifest (no file lists, no shard count) and replication.json.
/// </summary>
public static class FirstImplementationLakeWriter
{
    /// <param name="duplicateDay">A day whose first file is written a second time as <c>data_1.parquet</c>, as its overlapping re-exports left it.</param>
    /// <param name="cold">A day it had moved to the cold path.</param>
    public static async Task WriteAsync(SourceDatabase source, string hotPath, int shards, DateTimeOffset watermark, DateOnly? duplicateDay = null,
        (string Path, DateOnly Day)? cold = null)
    {
        var csv = Path.Combine(hotPath, "export.csv");
        Directory.CreateDirectory(hotPath);
        var dates = new SortedSet<string>(StringComparer.Ordinal);
        await using (var connection = await source.OpenAsync())
        await using (var command = new NpgsqlCommand("SELECT sensor_id, ts, value, coalesce(quality, 0), coalesce(inserted_at, ts) FROM metrics WHERE inserted_at <= @w OR inserted_at IS NULL", connection))
        {
            command.Parameters.AddWithValue("w", watermark);
            var text = new StringBuilder("sensor_id,ts,value,quality,inserted_at,date,shard\n");
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var id = reader.GetString(0);
                var ts = reader.GetFieldValue<DateTimeOffset>(1).UtcDateTime;
                var date = ts.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                dates.Add(date);
                text.Append(CultureInfo.InvariantCulture,
                    $"{id},{ts:yyyy-MM-dd HH:mm:ss.ffffff},{reader.GetDouble(2):R},{reader.GetInt16(3)},{reader.GetFieldValue<DateTimeOffset>(4).UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff},{date},{ShardHasher.Shard(id, shards):00}\n");
            }
            await File.WriteAllTextAsync(csv, text.ToString());
        }
        var dataset = Path.Combine(hotPath, LakeLayout.Dataset);
        Directory.CreateDirectory(Path.GetDirectoryName(dataset)!);
        LakeDuckDb.Scalar($"""
            COPY (SELECT sensor_id, CAST(ts AS TIMESTAMP) AS ts, CAST(value AS DOUBLE) AS value, CAST(quality AS INTEGER) AS quality,
                         CAST(inserted_at AS TIMESTAMP) AS inserted_at, date, shard
                  FROM read_csv('{csv}', header = true, all_varchar = true) ORDER BY sensor_id, ts)
            TO '{dataset}' (FORMAT PARQUET, PARTITION_BY (date, shard), COMPRESSION ZSTD)
            """);
        File.Delete(csv);
        if (duplicateDay is { } day)
        {
            var first = Directory.GetFiles(Path.Combine(dataset, $"date={LakeLayout.DateKey(day)}"), "*.parquet", SearchOption.AllDirectories).First();
            File.Copy(first, Path.Combine(Path.GetDirectoryName(first)!, "data_1.parquet"));
        }

        if (cold is { } c)
        {
            var coldDataset = Path.Combine(c.Path, LakeLayout.Dataset);
            Directory.CreateDirectory(coldDataset);
            Directory.Move(Path.Combine(dataset, $"date={LakeLayout.DateKey(c.Day)}"), Path.Combine(coldDataset, $"date={LakeLayout.DateKey(c.Day)}"));
        }

        var state = Path.Combine(hotPath, "_state");
        Directory.CreateDirectory(state);
        var w = watermark.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
        string Root(string d) => cold is { } c && LakeLayout.DateKey(c.Day) == d ? Path.Combine(c.Path, LakeLayout.Dataset) : dataset;
        var partitions = string.Join(",\n", dates.Select(d =>
            $"\"{d}\": {{\"location\": \"{(Root(d) == dataset ? "hot" : "cold")}\", \"updated_at\": \"{w}\", \"last_compacted_at\": null, \"file_count\": {Directory.GetFiles(Path.Combine(Root(d), $"date={d}"), "*.parquet", SearchOption.AllDirectories).Length}}}"));
        await File.WriteAllTextAsync(Path.Combine(state, "manifest.json"),
            $"{{\"schema_version\": 1, \"datasets\": {{\"metrics/v1\": {{\"computed_through_ts\": \"{w}\", \"partitions\": {{{partitions}}}}}}}}}");
        await File.WriteAllTextAsync(Path.Combine(state, "replication.json"),
            $"{{\"schema_version\": 1, \"last_inserted_at\": \"{w}\", \"computed_through_ts\": \"{w}\", \"last_run_at\": \"{w}\", \"last_run_duration_ms\": 1200, \"last_run_row_count\": 100, \"last_run_backlog_seconds\": 60, \"last_run_status\": \"ok\", \"last_run_error\": null, \"last_export_start\": \"{w}\", \"last_export_end\": \"{w}\", \"last_late_window_hours\": 48, \"backfill_from_ts\": null, \"backfill_to_ts\": null, \"backfill_completed_at\": null}}");
    }
}
