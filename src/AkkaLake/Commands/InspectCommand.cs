using System.CommandLine;
using System.Text.Json;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Manifest;

namespace AkkaLake.Commands;

/// <summary><c>akkalake inspect [--json]</c>: what the lake holds, from its manifest. Never writes.</summary>
public static class InspectCommand
{
    public static Command Create(GlobalOptions global)
    {
        var json = new Option<bool>("--json") { Description = "Print the controller's inspector JSON." };
        var view = new Option<bool>("--duckdb-view") { Description = "Print the CREATE VIEW statement of the committed files for other DuckDB clients." };
        var command = new Command("inspect", "Describe the lake: partitions, files, watermark, replication state.") { json, view };
        command.SetAction(result =>
        {
            var settings = global.LoadSettings(result);
            if (result.GetValue(view))
            {
                var manifest = ManifestStore.LoadLake(settings);
                result.InvocationConfiguration.Output.WriteLine(DuckDbView.CreateStatement(manifest, settings));
                return ExitCodes.Ok;
            }
            var report = LakeInspector.Inspect(settings);
            var output = result.InvocationConfiguration.Output;
            output.WriteLine(result.GetValue(json)
                ? JsonSerializer.Serialize(report, LakeJson.Options)
                : LakeReportText.Render(report));
            return ExitCodes.Ok;
        });
        return command;
    }
}
