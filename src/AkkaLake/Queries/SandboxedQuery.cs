using System.Data.Common;
using System.Text.Json;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Manifest;
using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace AkkaLake.Queries;

/// <summary>A query <see cref="SandboxedQuery"/> would not run, with the reason.</summary>
public sealed class QueryRefusedException(string message) : Exception(message);

/// <summary>
/// User SQL over the committed view, able to read the lake's committed files and nothing else and
/// to write nothing. DuckDB may touch only those files (<c>enable_external_access = false</c> with
/// them as <c>allowed_paths</c>), loads no extension, and its configuration is locked before the
/// user's SQL runs. Since an allowed path could still be overwritten by a <c>COPY … TO</c>, only
/// one SELECT statement runs: DuckDB's own parser decides (<c>json_serialize_sql</c> serialises
/// SELECT statements only). What the sandbox forbids at run time (reading another file) is
/// refused too, in DuckDB's own first line. What does not fit in memory spills under <c>tmp-path</c>.
/// </summary>
public sealed class SandboxedQuery : IDisposable
{
    private readonly DuckDBConnection _connection;

    public SandboxedQuery(LakeManifest manifest, LakeSettings settings)
    {
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
        var roots = new Core.Layout.LakeRoots(settings.HotPath, settings.ColdPath);
        var paths = manifest.Files().Select(f => roots.Resolve(f.Location, f.RelativePath)).ToList();
        // DuckDB would take a missing file for a pattern the sandbox forbids; say what is wrong instead.
        if (paths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
        {
            _connection.Dispose();
            throw new InvalidOperationException($"The committed file {missing} is missing (is the NAS mounted?); 'akkalake verify' lists what the lake lacks.");
        }
        Execute($"SET allowed_paths = [{string.Join(", ", paths.Select(Quote))}]");
        // Large sorts and joins spill to the lake's scratch directory, never beside the lake.
        Execute($"SET temp_directory = {Quote(Path.Combine(settings.TmpPath, "duckdb"))}");
        Execute("SET enable_external_access = false");
        Execute("SET autoinstall_known_extensions = false");
        Execute("SET autoload_known_extensions = false");
        Execute("SET TimeZone = 'UTC'");
        Execute("SET lock_configuration = true");
        Execute(DuckDbView.CreateStatement(manifest, settings));
    }

    /// <summary>Runs one SELECT statement; refuses anything else, and what the sandbox forbids.</summary>
    public DbDataReader Run(string sql)
    {
        Check(sql);
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteReader();
    }

    /// <summary>An error of the query itself (a file the sandbox forbids, a name that does not exist), not of DuckDB or the lake.</summary>
    /// DuckDB.NET reports errors raised while preparing as Invalid, so the message's kind decides those.
    public static bool IsTheQuerys(DuckDBException e) =>
        QueryErrorTypes.Any(type => e.ErrorType == type || e.Message.StartsWith($"{type} Error", StringComparison.Ordinal));

    private static readonly DuckDBErrorType[] QueryErrorTypes = [DuckDBErrorType.Permission, DuckDBErrorType.Binder, DuckDBErrorType.Catalog, DuckDBErrorType.Parser];

    /// <summary>DuckDB's message runs on with the query and a caret; its first line says what is wrong.</summary>
    public static string FirstLine(string message) => message.Split('\n', 2)[0].TrimEnd();

    private void Check(string sql)
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
                    : $"The query does not parse: {FirstLine(reason ?? "")}");
            }
            var statements = parsed.RootElement.GetProperty("statements").GetArrayLength();
            if (statements != 1)
                throw new QueryRefusedException($"akkalake sql runs one SELECT statement at a time; this holds {statements}.");
        }
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
