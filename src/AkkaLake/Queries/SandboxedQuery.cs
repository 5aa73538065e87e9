using System.Data.Common;
using System.Text.Json;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Manifest;
using DuckDB.NET.Data;

namespace AkkaLake.Queries;

/// <summary>A query <see cref="SandboxedQuery"/> would not run, with the reason.</summary>
public sealed class QueryRefusedException(string message) : Exception(message);

/// <summary>
/// User SQL over the committed view, able to read the lake's committed files and nothing else and
/// to write nothing. DuckDB may touch only those files (<c>enable_external_access = false</c> with
/// them as <c>allowed_paths</c>), loads no extension, and its configuration is locked before the
/// user's SQL runs. Since an allowed path could still be overwritten by a <c>COPY … TO</c>, only
/// SELECT statements run: DuckDB's own parser decides (<c>json_serialize_sql</c> serialises
/// SELECT statements only). What does not fit in memory spills under <c>tmp-path</c>.
/// </summary>
public sealed class SandboxedQuery : IDisposable
{
    private readonly DuckDBConnection _connection;

    public SandboxedQuery(LakeManifest manifest, LakeSettings settings)
    {
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
        var roots = new Core.Layout.LakeRoots(settings.HotPath, settings.ColdPath);
        var files = manifest.Files().Select(f => Quote(roots.Resolve(f.Location, f.RelativePath)));
        Execute($"SET allowed_paths = [{string.Join(", ", files)}]");
        // Large sorts and joins spill to the lake's scratch directory, never beside the lake.
        Execute($"SET temp_directory = {Quote(Path.Combine(settings.TmpPath, "duckdb"))}");
        Execute("SET enable_external_access = false");
        Execute("SET autoinstall_known_extensions = false");
        Execute("SET autoload_known_extensions = false");
        Execute("SET TimeZone = 'UTC'");
        Execute("SET lock_configuration = true");
        Execute(DuckDbView.CreateStatement(manifest, settings));
    }

    /// <summary>Runs a query; refuses anything but SELECT statements.</summary>
    public DbDataReader Run(string sql)
    {
        using (var check = _connection.CreateCommand())
        {
            check.CommandText = "SELECT json_serialize_sql(CAST($sql AS VARCHAR))";
            check.Parameters.Add(new DuckDBParameter("sql", sql));
            using var parsed = JsonDocument.Parse((string)check.ExecuteScalar()!);
            if (parsed.RootElement.GetProperty("error").GetBoolean())
            {
                var reason = parsed.RootElement.TryGetProperty("error_message", out var m) ? m.GetString() : null;
                throw new QueryRefusedException(parsed.RootElement.GetProperty("error_type").GetString() == "not implemented"
                    ? "akkalake sql runs SELECT queries only: it reads the lake and writes nothing."
                    : $"The query does not parse: {reason}");
            }
        }
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteReader();
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Quote(string path) => "'" + path.Replace("'", "''", StringComparison.Ordinal) + "'";

    public void Dispose() => _connection.Dispose();
}
