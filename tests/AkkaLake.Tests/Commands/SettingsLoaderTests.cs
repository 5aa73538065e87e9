using AkkaLake.Testing;
using AkkaLake.Configuration;
using AkkaLake.Core.Configuration;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Commands;

public class SettingsLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Dictionary<string, string?> NoFlags = [];

    [Fact]
    public void Without_a_file_the_embedded_defaults_are_the_controllers()
    {
        var s = SettingsLoader.Load(null, NoFlags, _ => null);
        Assert.Equal("/Users/Shared/FarmDashboard", s.DataRoot);
        Assert.Equal(16, s.Shards);
        Assert.Equal(90, s.HotRetentionDays);
        Assert.Null(s.ColdPath);
    }

    [Fact]
    public void Environment_overrides_the_file_and_flags_override_the_environment()
    {
        var env = new Dictionary<string, string>
        {
            ["CORE_DATA_ROOT"] = _dir.Path,
            ["CORE_ANALYSIS_LAKE_SHARDS"] = "8",
            ["CORE_ANALYSIS_HOT_RETENTION_DAYS"] = "30",
        };
        var s = SettingsLoader.Load(null, new Dictionary<string, string?> { ["shards"] = "4" }, n => env.GetValueOrDefault(n));
        Assert.Equal(_dir.Path, s.DataRoot);
        Assert.Equal(Path.Combine(_dir.Path, "storage/analysis/lake/hot"), s.HotPath);
        Assert.Equal(4, s.Shards);
        Assert.Equal(30, s.HotRetentionDays);
    }

    [Fact]
    public void A_bad_environment_value_is_an_error_naming_the_variable()
    {
        var e = Assert.Throws<SettingsException>(() => SettingsLoader.Load(null, NoFlags, n => n == "CORE_ANALYSIS_LAKE_SHARDS" ? "zero" : null));
        Assert.Contains("CORE_ANALYSIS_LAKE_SHARDS", e.Message);
    }

    [Fact]
    public void The_database_url_falls_back_to_the_setup_config_under_the_data_root()
    {
        Directory.CreateDirectory(_dir.Combine("setup"));
        File.WriteAllText(_dir.Combine("setup", "config.json"), """{"database_url": "postgres://farm@localhost/farm"}""");
        var s = SettingsLoader.Load(null, new Dictionary<string, string?> { ["data-root"] = _dir.Path }, _ => null);
        Assert.Equal("postgres://farm@localhost/farm", s.DatabaseUrl);
        var explicitUrl = SettingsLoader.Load(null, new Dictionary<string, string?> { ["data-root"] = _dir.Path, ["database-url"] = "Host=x" }, _ => null);
        Assert.Equal("Host=x", explicitUrl.DatabaseUrl);
    }

    [Fact]
    public void A_named_config_file_is_read_over_the_embedded_defaults_and_a_missing_or_broken_one_is_an_error()
    {
        var file = _dir.Combine("custom.conf");
        File.WriteAllText(file, "akkalake { shards = 2, late-window-hours = 12 }");
        var s = SettingsLoader.Load(file, NoFlags, _ => null);
        Assert.Equal(2, s.Shards);
        Assert.Equal(12, s.LateWindowHours);
        // It names only what it changes: everything else is the embedded default.
        Assert.Equal(90, s.HotRetentionDays);
        Assert.Equal("/Users/Shared/FarmDashboard", s.DataRoot);
        Assert.Throws<SettingsException>(() => SettingsLoader.Load(_dir.Combine("missing.conf"), NoFlags, _ => null));
        File.WriteAllText(file, "akkalake { shards = ${no.such.setting} }");
        Assert.Throws<SettingsException>(() => SettingsLoader.Load(file, NoFlags, _ => null));
        File.WriteAllText(file, "akkalake { shards { nested = 1 } }");
        Assert.Throws<SettingsException>(() => SettingsLoader.Load(file, NoFlags, _ => null));
    }
}
