using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Layout;
using AkkaLake.Core.Locking;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.State;

namespace AkkaLake.Core.Status;

/// <summary>Gathers what <see cref="LakeStatus"/> judges, reading only: state files, the writer lock, the cold path, the log.</summary>
public static partial class LakeStatusReader
{
    public static StatusInputs Read(LakeSettings settings, string logDirectory, DateTimeOffset now)
    {
        LakeManifest? manifest = null;
        string? problem = null;
        try
        {
            manifest = new ManifestStore(settings.StatePath).Load();
        }
        catch (ManifestUnreadableException e)
        {
            problem = e.Message;
        }
        bool? coldReachable = settings.ColdPath is { } cold ? ColdMarker.IsPresent(cold) : null;
        var pid = LakeLock.Holder(settings.StatePath)?.Pid;
        return new StatusInputs(manifest, problem, new ReplicationStateStore(settings.StatePath).Load(), pid,
            coldReachable, RecentProblems(logDirectory, now.AddHours(-1)), settings.LateWindowHours, settings.HotMaxBytes,
            DaemonState.LoadFor(settings.StatePath, pid)?.ReplicationDown);
    }

    /// <summary>Warnings and errors of the daemon's JSON log since <paramref name="since"/>, newest last.</summary>
    public static IReadOnlyList<LoggedProblem> RecentProblems(string logDirectory, DateTimeOffset since)
    {
        if (!Directory.Exists(logDirectory)) return [];
        var problems = new List<LoggedProblem>();
        foreach (var file in Directory.GetFiles(logDirectory, "akkalake-*.json").Where(f => File.GetLastWriteTimeUtc(f) >= since.UtcDateTime).Order(StringComparer.Ordinal))
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
            {
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    var root = doc.RootElement;
                    if (!root.TryGetProperty("@l", out var level) || level.GetString() is not ("Warning" or "Error" or "Fatal")) continue;
                    var at = DateTimeOffset.Parse(root.GetProperty("@t").GetString()!, CultureInfo.InvariantCulture);
                    if (at < since) continue;
                    problems.Add(new LoggedProblem(at, level.GetString()!, Render(root)));
                }
                catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
                {
                    // A line being written, or not ours: skipped.
                }
            }
        }
        return problems;
    }

    /// <summary>The message template with its properties filled in, as the console shows it.</summary>
    private static string Render(JsonElement e) =>
        Hole().Replace(e.GetProperty("@mt").GetString() ?? "", m =>
            e.TryGetProperty(m.Groups[1].Value, out var v) ? (v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()) : m.Value);

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)(?::[^}]*)?\}")]
    private static partial Regex Hole();
}
