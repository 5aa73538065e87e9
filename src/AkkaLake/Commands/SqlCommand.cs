using System.CommandLine;
using System.Data.Common;
using System.Globalization;
using AkkaLake.Core.Configuration;
using AkkaLake.Queries;
using AkkaLake.Core.Manifest;
using DuckDB.NET.Data;

namespace AkkaLake.Commands;

/// <summary><c>akkalake sql "&lt;query&gt;"</c>: DuckDB over a <c>metrics</c> view of exactly the committed files, sandboxed.</summary>
public static class SqlCommand
{
    public static Command Create(GlobalOptions global)
    {
        var query = new Argument<string>("query") { Description = "SQL over the view 'metrics' (sensor_id, ts, value, quality, samples, source, date, shard)." };
        var command = new Command("sql", "Query the committed lake with DuckDB (SELECT only; it can read the lake's committed files and nothing else, and writes nothing).") { query };
        command.SetAction(result =>
        {
            var settings = global.LoadSettings(result);
            var manifest = ManifestStore.LoadLake(settings);
            using var sandbox = new SandboxedQuery(manifest, settings);
            try
            {
                using var reader = sandbox.Run(result.GetValue(query)!);
                Print(reader, result.InvocationConfiguration.Output);
            }
            catch (QueryRefusedException e)
            {
                result.InvocationConfiguration.Error.WriteLine(e.Message);
                return ExitCodes.BadInput;
            }
            catch (DuckDBException e)
            {
                result.InvocationConfiguration.Error.WriteLine(SandboxedQuery.FirstLine(e.Message));
                return SandboxedQuery.IsTheQuerys(e) ? ExitCodes.BadInput : ExitCodes.Failed;
            }
            return ExitCodes.Ok;
        });
        return command;
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
