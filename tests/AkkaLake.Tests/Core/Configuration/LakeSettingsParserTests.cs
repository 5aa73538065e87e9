using AkkaLake.Core.Configuration;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Configuration;

public class LakeSettingsParserTests
{
    private static LakeSettings Parse(params (string Key, string? Value)[] values) =>
        LakeSettingsParser.Parse(values.ToDictionary(v => v.Key, v => v.Value));

    [Fact]
    public void Defaults_are_the_controllers()
    {
        var s = Parse();
        Assert.Equal("/Users/Shared/FarmDashboard", s.DataRoot);
        Assert.Equal("/Users/Shared/FarmDashboard/storage/analysis/lake/hot", s.HotPath);
        Assert.Null(s.ColdPath);
        Assert.Equal("/Users/Shared/FarmDashboard/storage/analysis/tmp", s.TmpPath);
        Assert.Equal(16, s.Shards);
        Assert.Equal(90, s.HotRetentionDays);
        Assert.Equal(48, s.LateWindowHours);
        Assert.Equal(TimeSpan.FromSeconds(60), s.ReplicationInterval);
        Assert.Equal(TimeSpan.FromSeconds(60), s.ReplicationLag);
        Assert.Equal(TimeSpan.FromSeconds(300), s.DeleteGrace);
        Assert.Null(s.HotMaxBytes);
        Assert.Equal("/Users/Shared/FarmDashboard/storage/analysis/lake/hot/_state", s.StatePath);
    }

    [Fact]
    public void A_row_budget_larger_than_half_the_heap_is_refused_with_the_most_it_may_be()
    {
        const long heap = 256L << 20;
        var values = new Dictionary<string, string?> { ["max-buffered-rows"] = "3000000" };

        var e = Assert.Throws<SettingsException>(() => LakeSettingsParser.Parse(values, heap));

        var problem = Assert.Single(e.Problems);
        Assert.Contains("max-buffered-rows = 3000000", problem);
        Assert.Contains("the 256 MB the heap may grow to; use at most 2097152", problem);
        Assert.Contains("DOTNET_GCHeapHardLimit", problem);
        values["max-buffered-rows"] = "2000000";
        Assert.Equal(2_000_000, LakeSettingsParser.Parse(values, heap).MaxBufferedRows);
        Assert.Equal(1_000_000, LakeSettingsParser.Parse(new Dictionary<string, string?>(), heap).MaxBufferedRows);
    }

    [Fact]
    public void The_embedded_defaults_name_every_setting_and_nothing_else()
    {
        var keys = LakeSettingsParser.Defaults.GetConfig("akkalake").AsEnumerable().Select(e => e.Key).Order();
        Assert.Equal(LakeSettingsParser.All.Select(s => s.Key).Order(), keys);
    }

    [Fact]
    public void Paths_derive_from_the_data_root_unless_set()
    {
        var s = Parse(("data-root", "/srv/farm/"), ("cold-path", "/Volumes/nas/lake"));
        Assert.Equal("/srv/farm/storage/analysis/lake/hot", s.HotPath);
        Assert.Equal("/Volumes/nas/lake", s.ColdPath);
        Assert.Equal("/srv/farm/storage/analysis/tmp", s.TmpPath);
    }

    [Fact]
    public void Every_bad_value_is_reported_naming_the_setting_and_its_environment_variable()
    {
        var e = Assert.Throws<SettingsException>(() => Parse(
            ("shards", "0"), ("hot-retention-days", "abc"), ("hot-path", "relative/lake"),
            ("replication-interval-seconds", "5"), ("replication-lag-seconds", "-1"), ("hot-max-bytes", "lots")));
        Assert.Equal(6, e.Problems.Count);
        Assert.Contains(e.Problems, p => p.Contains("--shards / CORE_ANALYSIS_LAKE_SHARDS / akkalake.shards") && p.Contains("got 0"));
        Assert.Contains(e.Problems, p => p.Contains("CORE_ANALYSIS_HOT_RETENTION_DAYS") && p.Contains("\"abc\""));
        Assert.Contains(e.Problems, p => p.Contains("CORE_ANALYSIS_LAKE_HOT_PATH") && p.Contains("absolute"));
        Assert.Contains(e.Problems, p => p.Contains("CORE_ANALYSIS_REPLICATION_INTERVAL_SECONDS") && p.Contains("10 to 3600"));
        Assert.Contains(e.Problems, p => p.Contains("CORE_ANALYSIS_REPLICATION_LAG_SECONDS"));
        Assert.Contains(e.Problems, p => p.Contains("CORE_ANALYSIS_HOT_MAX_BYTES"));
    }

    [Fact]
    public void The_message_is_one_line_and_a_file_is_no_data_root()
    {
        using var dir = new TempDirectory();
        var file = Path.Combine(dir.Path, "not-a-dir");
        File.WriteAllText(file, "");
        var e = Assert.Throws<SettingsException>(() => Parse(("data-root", file), ("shards", "x")));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains($"--data-root / CORE_DATA_ROOT / akkalake.data-root must be a directory; \"{file}\" is a file.", e.Message);
    }

    [Fact]
    public void More_than_a_hundred_shards_is_refused_because_shard_names_have_two_digits() =>
        Assert.Throws<SettingsException>(() => Parse(("shards", "101")));

    [Fact]
    public void A_cold_path_inside_the_hot_path_is_refused()
    {
        var e = Assert.Throws<SettingsException>(() => Parse(("hot-path", "/lake/hot"), ("cold-path", "/lake/hot/cold")));
        Assert.Contains("must not be inside the hot path", e.Message);
        Assert.Throws<SettingsException>(() => Parse(("hot-path", "/lake/cold/hot"), ("cold-path", "/lake/cold")));
        Assert.Equal("/lake/hot-cold", Parse(("hot-path", "/lake/hot"), ("cold-path", "/lake/hot-cold")).ColdPath);
    }

    [Fact]
    public void A_cold_path_that_is_a_symlink_to_the_hot_path_or_into_it_is_refused()
    {
        using var dir = new TempDirectory();
        var hot = Directory.CreateDirectory(dir.Combine("hot")).FullName;
        Directory.CreateDirectory(dir.Combine("hot", "archive"));
        Directory.CreateSymbolicLink(dir.Combine("nas"), hot);
        Directory.CreateSymbolicLink(dir.Combine("nas-archive"), dir.Combine("hot", "archive"));
        Directory.CreateSymbolicLink(dir.Combine("hot-link"), hot);

        Assert.Contains("must not be inside the hot path", Assert.Throws<SettingsException>(() => Parse(("hot-path", hot), ("cold-path", dir.Combine("nas")))).Message);
        Assert.Throws<SettingsException>(() => Parse(("hot-path", hot), ("cold-path", dir.Combine("nas-archive"))));
        // Through a link to the hot path, to a cold directory not created yet.
        Assert.Throws<SettingsException>(() => Parse(("hot-path", hot), ("cold-path", dir.Combine("hot-link", "cold"))));
        // A symlinked hot root itself is fine; it is kept as configured.
        Assert.Equal(dir.Combine("hot-link"), Parse(("hot-path", dir.Combine("hot-link")), ("cold-path", dir.Combine("cold"))).HotPath);
    }

    [Fact]
    public void Paths_with_spaces_are_kept_as_they_are() =>
        Assert.Equal("/Users/Shared/Farm Dashboard/storage/analysis/lake/hot", Parse(("data-root", "/Users/Shared/Farm Dashboard")).HotPath);
}
