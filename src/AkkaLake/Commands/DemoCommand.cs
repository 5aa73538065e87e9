using AkkaLake.Demo;
using System.CommandLine;
using System.Globalization;
using AkkaLake.Actors.Replication;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Source;
using AkkaLake.Hosting;
using DuckDB.NET.Data;
using Npgsql;

namespace AkkaLake.Commands;

/// <summary>
/// <c>akkalake demo</c>: the main job on an embedded default. Starts a throwaway PostgreSQL,
/// fills it with generated readings, runs one daemon cycle into a fresh lake, then shows
/// <c>inspect</c> and a DuckDB query over the committed files. The server is removed afterwards;
/// the lake is kept and its path printed. Only the path and shard flags are read, never the
/// environment or a configuration file: a demo must not write into the controller's real lake.
/// </summary>
public static class DemoCommand
{
    public static Command Create(GlobalOptions global)
    {
        var sensors = new Option<int>("--sensors") { Description = "Sensors to generate.", DefaultValueFactory = _ => 300 };
        var days = new Option<int>("--days") { Description = "Days of readings (one a minute per sensor), today included.", DefaultValueFactory = _ => 3 };
        var command = new Command("demo", "Run the daemon once against a throwaway PostgreSQL with generated readings, into a fresh lake (a new temp directory unless --data-root is given).") { sensors, days };
        command.SetAction(async (result, ct) =>
        {
            var output = result.InvocationConfiguration.Output;
            if (result.GetValue(global.DatabaseUrl) is not null || result.GetValue(global.Config) is not null)
                throw new BadInputException("demo starts its own PostgreSQL and takes no configuration file: --database-url and --config are for the other commands.");
            if (result.GetValue(days) is < 1 or > 366 || result.GetValue(sensors) is < 1 or > 10_000)
                throw new BadInputException("demo takes --days from 1 to 366 and --sensors from 1 to 10000.");
            var root = result.GetValue(global.DataRoot) ?? Directory.CreateTempSubdirectory("akkalake-demo-").FullName;
            var settings = LakeSettingsParser.Parse(new Dictionary<string, string?>
            {
                [LakeSettingsParser.DataRoot.Key] = root,
                [LakeSettingsParser.HotPath.Key] = result.GetValue(global.HotPath),
                [LakeSettingsParser.ColdPath.Key] = result.GetValue(global.ColdPath),
                [LakeSettingsParser.TmpPath.Key] = result.GetValue(global.TmpPath),
                [LakeSettingsParser.Shards.Key] = result.GetValue(global.Shards),
                [LakeSettingsParser.ReplicationLagSeconds.Key] = "0",
            });
            if (new ManifestStore(settings.StatePath).Exists)
                throw new BadInputException($"demo writes a fresh lake, and {settings.HotPath} already holds one: give a new --data-root or none.");

            await output.WriteLineAsync("Starting a throwaway PostgreSQL…");
            using var server = LocalPostgresServer.Start();
            await using (var connection = new NpgsqlConnection(server.ConnectionString))
            {
                await connection.OpenAsync(ct);
                await SampleReadings.CreateSchemaAsync(connection);
                var now = DateTimeOffset.UtcNow;
                var firstDay = DateOnly.FromDateTime(now.UtcDateTime).AddDays(1 - result.GetValue(days));
                var rows = await SampleReadings.InsertAsync(connection, result.GetValue(sensors), TimeSpan.FromMinutes(1),
                    new DateTimeOffset(firstDay.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), now.AddMinutes(-1), insertDelay: TimeSpan.FromSeconds(2), ct: ct);
                // As autovacuum would in time: the run's plan and its start line quote PostgreSQL's estimates.
                await using (var analyze = new NpgsqlCommand("ANALYZE metrics", connection))
                    await analyze.ExecuteNonQueryAsync(ct);
                await output.WriteLineAsync($"Generated {rows:N0} readings for {result.GetValue(sensors)} sensors over {result.GetValue(days)} days ({firstDay:yyyy-MM-dd} to today, UTC).");
            }

            using (var logger = LakeLogging.Create(settings))
            {
                var outcome = await DaemonHost.RunAsync(settings with { DatabaseUrl = server.ConnectionString }, new ReplicationJob.Once(), logger, ct);
                if (!outcome.Succeeded)
                {
                    await result.InvocationConfiguration.Error.WriteLineAsync($"The demo run failed: {outcome.Error}");
                    return ExitCodes.Failed;
                }
            }

            await output.WriteLineAsync();
            await output.WriteLineAsync("$ akkalake inspect");
            await output.WriteLineAsync(LakeReportText.Render(LakeInspector.Inspect(settings)));
            await output.WriteLineAsync("DuckDB over the committed files: readings per day");
            await output.WriteLineAsync(QueryPerDay(settings));
            await output.WriteLineAsync($"The lake is at {settings.HotPath} (logs under {Path.Combine(settings.DataRoot, "logs")}); the PostgreSQL server has been removed.");
            var pathFlags = $"--data-root {settings.DataRoot}" + (result.GetValue(global.HotPath) is null ? "" : $" --hot-path {settings.HotPath}") + (settings.ColdPath is null ? "" : $" --cold-path {settings.ColdPath}");
            await output.WriteLineAsync($"Look at it again with: {Invocation()} {pathFlags} --shards {settings.Shards} inspect   (or status --html lake.html, sql \"SELECT …\", verify)");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A command that runs this program again: its own executable when it is one (installed, or built), else <c>dotnet run</c> in the checkout.</summary>
    private static string Invocation() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "akkalake" ? path : "dotnet run --project src/AkkaLake --";

    private static string QueryPerDay(LakeSettings settings)
    {
        var manifest = new ManifestStore(settings.StatePath).Load()!;
        var files = string.Join(", ", manifest.Files().Select(f => $"'{Core.Layout.LakeLayout.Resolve(settings.HotPath, f.RelativePath).Replace("'", "''", StringComparison.Ordinal)}'"));
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT CAST(date AS VARCHAR), count(*) AS readings, count(DISTINCT sensor_id) AS sensors, round(avg(value), 3) AS avg_value FROM read_parquet([{files}], hive_partitioning = true) GROUP BY date ORDER BY date";
        using var reader = command.ExecuteReader();
        var lines = new List<string> { $"  {"date",-10}  {"readings",10}  {"sensors",8}  {"avg value",10}" };
        while (reader.Read())
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"  {reader.GetValue(0),-10}  {reader.GetInt64(1),10:N0}  {reader.GetInt64(2),8}  {reader.GetDouble(3),10}"));
        return string.Join(Environment.NewLine, lines);
    }
}
