using System.Globalization;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Layout;
using DuckDB.NET.Data;

namespace AkkaLake.Testing;

/// <summary>A row as DuckDB reads it back from the lake.</summary>
public sealed record LakeRow(string SensorId, DateTime Ts, double Value, int? Quality, int? Samples, string? Source, string Date, string Shard);

/// <summary>Reads a lake back with DuckDB, the way analysts will, to check what was written.</summary>
public static class LakeDuckDb
{
    /// <summary>
    /// The read listed a file (or read a manifest naming one) that a commit renamed before DuckDB
    /// opened it: a directory reader's race with compaction, to be read again, not a wrong answer.
    /// </summary>
    public static bool IsRenameRace(DuckDBException e) =>
        e.Message.Contains("No files found", StringComparison.Ordinal) || e.Message.Contains("No such file", StringComparison.Ordinal);

    /// <summary>Every committed part file under a root, by hive-partitioned glob (what a naive reader sees).</summary>
    public static IReadOnlyList<LakeRow> ReadGlob(string root) =>
        Read($"read_parquet('{Escape(Path.Combine(root, LakeLayout.Dataset))}/*/*/*.parquet', hive_partitioning = true, hive_types_autocast = false)");

    /// <summary>Exactly the files the manifest commits, hot and cold.</summary>
    public static IReadOnlyList<LakeRow> ReadManifest(LakeManifest manifest, string hotRoot, string? coldRoot = null)
    {
        var files = manifest.Files()
            .Select(f => LakeLayout.Resolve(f.Location == LakeLocation.Cold ? coldRoot! : hotRoot, f.RelativePath))
            .ToList();
        if (files.Count == 0) return [];
        var list = string.Join(", ", files.Select(f => $"'{Escape(f)}'"));
        return Read($"read_parquet([{list}], hive_partitioning = true, hive_types_autocast = false)");
    }

    /// <summary>A DuckDB table expression over exactly the files the manifest commits, for aggregate checks too large to compare row by row.</summary>
    public static string ManifestFiles(LakeManifest manifest, string hotRoot, string? coldRoot = null)
    {
        var files = manifest.Files().Select(f => $"'{Escape(LakeLayout.Resolve(f.Location == LakeLocation.Cold ? coldRoot! : hotRoot, f.RelativePath))}'");
        return $"read_parquet([{string.Join(", ", files)}])";
    }

    public static IReadOnlyList<LakeRow> ReadFile(string path) =>
        Read($"read_parquet('{Escape(path)}', hive_partitioning = false)", hive: false);

    /// <summary>The DuckDB type names of a file's columns, in order.</summary>
    public static IReadOnlyList<(string Name, string Type)> DescribeFile(string path)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"DESCRIBE SELECT * FROM read_parquet('{Escape(path)}')";
        using var reader = command.ExecuteReader();
        var columns = new List<(string, string)>();
        while (reader.Read()) columns.Add((reader.GetString(0), reader.GetString(1)));
        return columns;
    }

    public static object? Scalar(string sql)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static IReadOnlyList<LakeRow> Read(string source, bool hive = true)
    {
        using var connection = Open();
        using var command = connection.CreateCommand();
        var partitionColumns = hive ? "date, shard" : "'' AS date, '' AS shard";
        // Keep file order: rows come back as stored, so sortedness can be checked.
        command.CommandText = $"SELECT sensor_id, ts, value, quality, samples, source, {partitionColumns} FROM {source}";
        using var reader = command.ExecuteReader();
        var rows = new List<LakeRow>();
        while (reader.Read())
        {
            rows.Add(new LakeRow(
                reader.GetString(0),
                DateTime.SpecifyKind(reader.GetDateTime(1), DateTimeKind.Utc),
                reader.GetDouble(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5),
                Convert.ToString(reader.GetValue(6), CultureInfo.InvariantCulture)!,
                Convert.ToString(reader.GetValue(7), CultureInfo.InvariantCulture)!));
        }
        return rows;
    }

    private static DuckDBConnection Open()
    {
        var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var tz = connection.CreateCommand();
        tz.CommandText = "SET TimeZone = 'UTC'";
        tz.ExecuteNonQuery();
        return connection;
    }

    private static string Escape(string s) => s.Replace("'", "''", StringComparison.Ordinal);
}
