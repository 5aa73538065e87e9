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
        var log = ReadLog(logDirectory, now.AddHours(-1));
        return new StatusInputs(manifest, problem, new ReplicationStateStore(settings.StatePath).Load(), pid,
            coldReachable, log.Problems, settings.LateWindowHours, settings.HotMaxBytes,
            DaemonState.LoadFor(settings.StatePath, pid)?.ReplicationDown, log.CompactionBytesPerSecond);
    }

    /// <summary>Warnings and errors of the daemon's JSON log since <paramref name="since"/>, newest last.</summary>
    public static IReadOnlyList<LoggedProblem> RecentProblems(string logDirectory, DateTimeOffset since) => ReadLog(logDirectory, since).Problems;

    /// <summary>
    /// What the daemon's JSON log says since <paramref name="since"/>: its warnings and errors, and
    /// how fast compaction merged (bytes read over time spent, from its "Compacted" lines).
    /// </summary>
    private static (IReadOnlyList<LoggedProblem> Problems, double? CompactionBytesPerSecond) ReadLog(string logDirectory, DateTimeOffset since)
    {
        if (!Directory.Exists(logDirectory)) return ([], null);
        var problems = new List<LoggedProblem>();
        long mergedBytes = 0, mergeMs = 0;
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
                    var at = DateTimeOffset.Parse(root.GetProperty("@t").GetString()!, CultureInfo.InvariantCulture);
                    if (at < since) continue;
                    if (root.TryGetProperty("@mt", out var template) && template.GetString()!.StartsWith("Compacted ", StringComparison.Ordinal) &&
                        root.TryGetProperty("BytesIn", out var bytesIn) && root.TryGetProperty("DurationMs", out var durationMs))
                    {
                        mergedBytes += bytesIn.GetInt64();
                        mergeMs += durationMs.GetInt64();
                    }
                    if (!root.TryGetProperty("@l", out var level) || level.GetString() is not ("Warning" or "Error" or "Fatal")) continue;
                    problems.Add(new LoggedProblem(at, level.GetString()!, Render(root)));
                }
                catch (Exception e) when (e is JsonException or FormatException or KeyNotFoundException or InvalidOperationException)
                {
                    // A line being written, or not ours: skipped.
                }
            }
        }
        return (problems, mergeMs > 0 ? mergedBytes * 1000.0 / mergeMs : null);
    }

    /// <summary>The message template with its properties filled in, as the console shows it.</summary>
    private static string Render(JsonElement e) =>
        Hole().Replace(e.GetProperty("@mt").GetString() ?? "", m =>
            e.TryGetProperty(m.Groups[1].Value, out var v) ? (v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()) : m.Value);

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)(?::[^}]*)?\}")]
    private static partial Regex Hole();
}
