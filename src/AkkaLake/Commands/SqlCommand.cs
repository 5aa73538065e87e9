using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Manifest;
using DuckDB.NET.Data;

namespace AkkaLake.Commands;

/// <summary><c>akkalake sql "&lt;query&gt;"</c>: DuckDB over a <c>metrics</c> view of exactly the committed files.</summary>
public static class SqlCommand
{
    public static Command Create(GlobalOptions global)
    {
        var query = new Argument<string>("query") { Description = "SQL over the view 'metrics' (sensor_id, ts, value, quality, samples, source, date, shard)." };
        var command = new Command("sql", "Query the committed lake with DuckDB. Reads only.") { query };
        command.SetAction(result =>
        {
            var settings = global.LoadSettings(result);
            var manifest = new ManifestStore(settings.StatePath).Load()
                ?? throw new SettingsException([$"There is no lake at {settings.HotPath}."]);
            using var connection = new DuckDBConnection("Data Source=:memory:");
            connection.Open();
            Execute(connection, DuckDbView.CreateStatement(manifest, settings));
            using var command = connection.CreateCommand();
            command.CommandText = result.GetValue(query);
            try
            {
                using var reader = command.ExecuteReader();
                Print(reader, result.InvocationConfiguration.Output);
            }
            catch (DuckDBException e)
            {
                result.InvocationConfiguration.Error.WriteLine($"DuckDB: {e.Message}");
                return ExitCodes.Failed;
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Execute(DuckDBConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static void Print(DbDataReader reader, TextWriter output)
    {
        output.WriteLine(string.Join('\t', Enumerable.Range(0, reader.FieldCount).Select(reader.GetName)));
        while (reader.Read())
            output.WriteLine(string.Join('\t', Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "NULL" : Format(reader.GetValue(i)))));
    }

    private static string Format(object value) => value switch
    {
        DateTime dt => dt.ToString("yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture),
        DateTimeOffset dto => dto.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff'+00'", CultureInfo.InvariantCulture),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
