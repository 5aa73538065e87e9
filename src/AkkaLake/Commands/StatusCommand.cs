using System.CommandLine;
using System.Globalization;
using System.Text;
using AkkaLake.Core;
using AkkaLake.Core.Inspection;
using AkkaLake.Core.Status;
using AkkaLake.Core.Storage;
using AkkaLake.Status;

namespace AkkaLake.Commands;

/// <summary>
/// <c>akkalake status [--json] [--html FILE]</c>: one screen on how the daemon and the lake are doing, for a
/// person or a monitoring script. Exit 0 healthy, 1 degraded, 2 down. Reads only, so it works
/// beside the running daemon.
/// </summary>
public static class StatusCommand
{
    public static Command Create(GlobalOptions global)
    {
        var json = new Option<bool>("--json") { Description = "Print the status as JSON (the document the status page draws)." };
        var html = new Option<FileInfo?>("--html") { Description = "Also write the status page, as the daemon serves it, to this file.", HelpName = "FILE" };
        var command = new Command("status", "Is the daemon running, how far behind is the lake, did the last run fail: exit 0 healthy, 1 degraded, 2 down.") { json, html };
        command.SetAction(result =>
        {
            var settings = global.LoadSettings(result);
            var status = StatusPage.Take(settings, DateTimeOffset.UtcNow);
            var output = result.InvocationConfiguration.Output;
            if (result.GetValue(html) is { } page)
            {
                if (page.Directory is { Exists: false } missing)
                    throw new BadInputException($"--html {page.FullName}: the directory {missing.FullName} does not exist.");
                AtomicFile.WriteAllBytes(page.FullName, Encoding.UTF8.GetBytes(StatusPage.Html(status)));
            }
            output.WriteLine(result.GetValue(json) ? StatusPage.Json(status) : Render(status, settings.ColdPath));
            return (int)status.Health;
        });
        return command;
    }

    private static string Render(LakeStatus s, string? coldPath)
    {
        var sb = new StringBuilder();
        void Line(string text) => sb.AppendLine(text);
        Line($"status:    {s.Health.ToString().ToUpperInvariant()}");
        foreach (var reason in s.Reasons) Line($"           - {reason}");
        Line($"daemon:    {(s.DaemonPid is { } pid ? $"running (pid {pid})" : "not running")}");
        Line($"watermark: {(s.Watermark is { } w ? $"{Timestamps.Format(w)} ({LakeStatus.Duration(TimeSpan.FromSeconds(s.LagSeconds!.Value))} behind)" : "none yet")}");
        Line($"last run:  {(s.LastRunAt is { } at ? $"{Timestamps.Format(at)} {s.LastRunStatus}{(s.LastRunError is { } e ? $": {e}" : "")}" : "none yet")}");
        if (s.Backfill is { } b) Line($"backfill:  {b}");
        if (s.Backlog is { } backlog)
            Line($"compaction: {(backlog.ShardDays == 0 ? "caught up" : $"{backlog.ShardDays:N0} shard-days over their file budget, {backlog.ExcessFiles:N0} files over the final count, " +
                (s.BacklogSecondsToClear is { } left ? $"about {LakeStatus.Duration(TimeSpan.FromSeconds(left))} left" : "time left unknown until a merge is logged"))}");
        Line($"hot usage: {LakeReportText.Bytes(s.HotBytes)}{(s.HotMaxBytes is { } max ? $" of {LakeReportText.Bytes(max)} budget" : "")}");
        Line($"cold path: {(coldPath is null ? "none (hot-only deployment)" : $"{coldPath}, {(s.ColdPathReachable == true ? "reachable" : "NOT reachable")}")}");
        Line($"last hour: {s.RecentProblems.Count} warnings and errors in the log");
        foreach (var p in s.RecentProblems.TakeLast(5))
            Line($"           {p.At.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {p.Level.ToUpperInvariant()[..3]} {p.Message}");
        return sb.ToString().TrimEnd();
    }
}
