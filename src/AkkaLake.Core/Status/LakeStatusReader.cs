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
        var log = ReadLog(logDirectory, now);
        return new StatusInputs(manifest, problem, new ReplicationStateStore(settings.StatePath).Load(), pid,
            coldReachable, log.Problems, settings.LateWindowHours, settings.HotMaxBytes,
            DaemonState.LoadFor(settings.StatePath, pid)?.ReplicationDown, log.CompactionBytesPerSecond)
        {
            Events = log.Events,
            ReconcileMarks = log.ReconcileMarks,
            LagHistory = log.LagHistory,
        };
    }

    /// <summary>What the daemon's JSON log says: of the last hour, and of the last day (events, reconciliation).</summary>
    private sealed record LogDigest(
        IReadOnlyList<LoggedProblem> Problems,
        double? CompactionBytesPerSecond,
        IReadOnlyList<LakeEvent> Events,
        IReadOnlyDictionary<string, string> ReconcileMarks,
        IReadOnlyList<LagPoint> LagHistory);

    /// <summary>
    /// What the daemon's JSON log says: the last hour's warnings and errors, how fast compaction
    /// merged (bytes read over time spent, from its "Compacted" lines) and the lag each batch
    /// reported; the last day's events, newest first, and what reconciliation said of each day.
    /// </summary>
    private static LogDigest ReadLog(string logDirectory, DateTimeOffset now)
    {
        var hourAgo = now.AddHours(-1);
        var dayAgo = now.AddDays(-1);
        var problems = new List<LoggedProblem>();
        var events = new List<LakeEvent>();
        var marks = new Dictionary<string, string>(StringComparer.Ordinal);
        var lag = new List<LagPoint>();
        if (!Directory.Exists(logDirectory)) return new LogDigest(problems, null, events, marks, lag);
        long mergedBytes = 0, mergeMs = 0;
        foreach (var file in Directory.GetFiles(logDirectory, "akkalake-*.json").Where(f => File.GetLastWriteTimeUtc(f) >= dayAgo.UtcDateTime).Order(StringComparer.Ordinal))
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
                    if (at < dayAgo) continue;
                    var template = root.TryGetProperty("@mt", out var mt) ? mt.GetString()! : "";
                    if (LakeEvents.KindOf(template) is { } kind)
                        events.Add(LakeEvents.Of(root, at, kind, Render(root)));
                    if (root.TryGetProperty("Date", out var date) && date.ValueKind == JsonValueKind.String &&
                        ReconcileMarks.After(marks.GetValueOrDefault(date.GetString()!), template) is { } mark)
                        marks[date.GetString()!] = mark;
                    if (at < hourAgo) continue;
                    if (template.StartsWith("Replicated", StringComparison.Ordinal) && root.TryGetProperty("LagSeconds", out var lagSeconds) && lagSeconds.ValueKind == JsonValueKind.Number)
                        lag.Add(new LagPoint(at, lagSeconds.GetDouble()));
                    if (template.StartsWith("Compacted ", StringComparison.Ordinal) &&
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
        events.Reverse();
        return new LogDigest(problems, mergeMs > 0 ? mergedBytes * 1000.0 / mergeMs : null, [.. events.Take(LakeEvents.MaxEvents)], marks, lag);
    }

    /// <summary>The message template with its properties filled in, as the console shows it.</summary>
    private static string Render(JsonElement e) =>
        Hole().Replace(e.GetProperty("@mt").GetString() ?? "", m =>
            e.TryGetProperty(m.Groups[1].Value, out var v) ? (v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()) : m.Value);

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)(?::[^}]*)?\}")]
    private static partial Regex Hole();
}
