using AkkaLake.Core.Configuration;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Core.Tests.Configuration;

/// <summary>docs/configuration.md names every setting, by its key, environment variable and flag, with the embedded default.</summary>
public class ConfigurationDocTests
{
    private static Dictionary<string, string[]> Rows()
    {
        var rows = new Dictionary<string, string[]>();
        foreach (var line in File.ReadLines(Repository.PathOf("docs", "configuration.md")))
        {
            if (!line.StartsWith("| `", StringComparison.Ordinal)) continue;
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            rows[cells[0].Trim('`')] = cells;
        }
        return rows;
    }

    [Fact]
    public void Every_setting_is_in_the_table_with_its_environment_variable_flag_and_default_and_nothing_else_is()
    {
        var rows = Rows();
        Assert.Equal(LakeSettingsParser.All.Select(s => s.Key).Order(), rows.Keys.Order());
        foreach (var setting in LakeSettingsParser.All)
        {
            var (environment, flag, @default) = (rows[setting.Key][1], rows[setting.Key][2], rows[setting.Key][3]);
            Assert.Equal(setting.EnvironmentVariable is { } variable ? $"`{variable}`" : "", environment);
            Assert.Equal(setting.HasFlag ? $"`--{setting.Key}`" : "", flag);
            if (LakeSettingsParser.DefaultOf(setting) is { } value)
                Assert.Equal($"`{value}`", @default);
            else
                Assert.True(@default.StartsWith("unset", StringComparison.Ordinal) || @default.StartsWith("`${data_root}", StringComparison.Ordinal), $"{setting.Key}: {@default}");
        }
    }
}
