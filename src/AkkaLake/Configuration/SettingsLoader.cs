using System.Text.Json;
using Akka.Configuration;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;

namespace AkkaLake.Configuration;

/// <summary>
/// Layers the configuration: the embedded defaults (<see cref="LakeSettingsParser.Defaults"/>),
/// the configuration file over them, the CORE_* environment variables, then command-line flags.
/// Then the database URL falls back to <c>setup/config.json</c> under the data root, and the cold
/// path to the one the lake remembers. Validation is <see cref="LakeSettingsParser"/>'s.
/// </summary>
public static class SettingsLoader
{
    public const string DefaultFileName = "akkalake.conf";

    public static LakeSettings Load(string? configFile, IReadOnlyDictionary<string, string?> flags) =>
        Load(configFile, flags, Environment.GetEnvironmentVariable);

    public static LakeSettings Load(string? configFile, IReadOnlyDictionary<string, string?> flags, Func<string, string?> environment)
    {
        var file = LoadHocon(configFile);
        var config = file.WithFallback(LakeSettingsParser.Defaults);
        var fileName = configFile ?? Path.Combine(AppContext.BaseDirectory, DefaultFileName);
        var values = new Dictionary<string, string?>();
        var origins = new Dictionary<string, string>();
        foreach (var setting in LakeSettingsParser.All)
        {
            values[setting.Key] = ReadString(config, setting.Path);
            origins[setting.Key] = file.HasPath(setting.Path) ? $"{setting.Path} in {fileName}" : "the default";
            if (setting.EnvironmentVariable is { } name && environment(name) is { Length: > 0 } fromEnvironment)
                (values[setting.Key], origins[setting.Key]) = (fromEnvironment, name);
        }
        foreach (var (key, value) in flags)
            if (!string.IsNullOrWhiteSpace(value))
                (values[key], origins[key]) = (value, "--" + key);

        var settings = LakeSettingsParser.Parse(values) with { Origins = origins };
        if (settings.ColdPath is null && new ColdPathMemory(settings.StatePath).Recall() is { } remembered)
            settings = settings with { ColdPath = remembered, ColdPathRemembered = true };
        return settings.DatabaseUrl is null ? settings with { DatabaseUrl = ReadSetupDatabaseUrl(settings.DataRoot) } : settings;
    }

    private static string? ReadString(Config config, string path)
    {
        try
        {
            if (!config.HasPath(path)) return null;
            var value = config.GetValue(path);
            if (value is null || value.IsEmpty) return null;
            if (!value.IsString())
                throw new ConfigurationException("expected a single value, found an object or a list");
            return value.GetString();
        }
        catch (Exception e) when (e is ConfigurationException or InvalidOperationException or NotSupportedException or FormatException)
        {
            throw new SettingsException([$"akkalake.{path["akkalake.".Length..]} in the configuration file is not a plain value: {e.Message}"]);
        }
    }

    public static Config LoadHocon(string? configFile)
    {
        var path = configFile ?? Path.Combine(AppContext.BaseDirectory, DefaultFileName);
        if (!File.Exists(path))
        {
            if (configFile is not null)
                throw new SettingsException([$"The configuration file {configFile} does not exist."]);
            return Config.Empty;
        }
        try
        {
            return ConfigurationFactory.ParseString(File.ReadAllText(path));
        }
        catch (Exception e) when (e is ConfigurationException or FormatException)
        {
            throw new SettingsException([$"The configuration file {path} is not valid HOCON: {e.Message}"]);
        }
    }

    /// <summary><c>database_url</c> from the controller's <c>setup/config.json</c>, if there is one.</summary>
    public static string? ReadSetupDatabaseUrl(string dataRoot)
    {
        var path = Path.Combine(dataRoot, "setup", "config.json");
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.TryGetProperty("database_url", out var url) && url.ValueKind == JsonValueKind.String
                ? url.GetString()
                : null;
        }
        catch (JsonException e)
        {
            throw new SettingsException([$"{path} is not valid JSON ({e.Message}); it is where database_url is read from."]);
        }
    }
}
