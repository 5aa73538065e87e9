using System.CommandLine;
using AkkaLake.Configuration;
using AkkaLake.Core.Configuration;

namespace AkkaLake.Commands;

/// <summary>Options every command takes: where the lake is and how it is configured.</summary>
public sealed class GlobalOptions
{
    public Option<string?> Config { get; } = new("--config") { Description = "HOCON file to read instead of the akkalake.conf beside the executable.", Recursive = true };
    public Option<string?> DataRoot { get; } = new("--data-root") { Description = "Data root (default /Users/Shared/FarmDashboard, or CORE_DATA_ROOT).", Recursive = true };
    public Option<string?> HotPath { get; } = new("--hot-path") { Description = "Hot lake root (CORE_ANALYSIS_LAKE_HOT_PATH).", Recursive = true };
    public Option<string?> ColdPath { get; } = new("--cold-path") { Description = "Cold lake root, e.g. a NAS (CORE_ANALYSIS_LAKE_COLD_PATH).", Recursive = true };
    public Option<string?> TmpPath { get; } = new("--tmp-path") { Description = "Scratch directory (CORE_ANALYSIS_TMP_PATH).", Recursive = true };
    public Option<string?> Shards { get; } = new("--shards") { Description = "Shards per day (CORE_ANALYSIS_LAKE_SHARDS).", Recursive = true };
    public Option<string?> DatabaseUrl { get; } = new("--database-url") { Description = "PostgreSQL URL or connection string (CORE_DATABASE_URL).", Recursive = true };
    public Option<string?> MetricsPort { get; } = new("--metrics-port") { Description = "Serve Prometheus metrics at http://127.0.0.1:PORT/metrics while the daemon runs (AKKALAKE_METRICS_PORT).", Recursive = true };

    public void AddTo(RootCommand root)
    {
        foreach (var option in new Option[] { Config, DataRoot, HotPath, ColdPath, TmpPath, Shards, DatabaseUrl, MetricsPort })
            root.Options.Add(option);
    }

    public LakeSettings LoadSettings(ParseResult result) =>
        SettingsLoader.Load(result.GetValue(Config), new Dictionary<string, string?>
        {
            [LakeSettingsParser.DataRoot.Key] = result.GetValue(DataRoot),
            [LakeSettingsParser.HotPath.Key] = result.GetValue(HotPath),
            [LakeSettingsParser.ColdPath.Key] = result.GetValue(ColdPath),
            [LakeSettingsParser.TmpPath.Key] = result.GetValue(TmpPath),
            [LakeSettingsParser.Shards.Key] = result.GetValue(Shards),
            [LakeSettingsParser.DatabaseUrl.Key] = result.GetValue(DatabaseUrl),
            [LakeSettingsParser.MetricsPort.Key] = result.GetValue(MetricsPort),
        });
}
