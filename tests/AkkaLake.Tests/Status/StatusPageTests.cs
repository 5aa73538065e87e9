using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using AkkaLake.Core.Layout;
using AkkaLake.Testing;
using AkkaLake.Tests.Support;
using Xunit;

namespace AkkaLake.Tests.Status;

/// <summary>The status page as an operator's browser draws it: headless Chromium against a running daemon, and the page <c>status --html</c> writes.</summary>
[Collection(PostgresCollection.Name)]
public partial class StatusPageTests(PostgresFixture postgres)
{
    [FactNeedingFile(HeadlessChromium.Executable, HeadlessChromium.Install)]
    public async Task The_page_maps_every_shard_day_of_the_manifest_shows_the_lag_status_json_gives_and_marks_a_day_found_different_from_PostgreSQL()
    {
        var t0 = DateTimeOffset.UtcNow;
        var source = await SourceDatabase.CreateAsync(postgres);
        await source.InsertStampedNowAsync(0, t0.AddDays(-2), t0.AddMinutes(-5), TimeSpan.FromMinutes(20));
        // Today and yesterday are checked against PostgreSQL every 2 s.
        using var lake = new LakeUnderTest(source.ConnectionString, shards: 4, extraConfig: "reconcile-recent-interval-seconds = 2");
        var port = Demo.LocalPostgresServer.FreePort().ToString(CultureInfo.InvariantCulture);
        using var daemon = DaemonProcess.Start([.. lake.Args("run"), "--metrics-port", port]);
        await daemon.WaitForOutputAsync("Backfill of", TimeSpan.FromSeconds(60));
        var url = $"http://127.0.0.1:{port}/";

        // The map holds a cell per shard-day of the manifest, with its file count; an incremental batch may land between the two reads, so try again once.
        var matched = false;
        for (var attempt = 0; attempt < 3 && !matched; attempt++)
        {
            var cells = Cells(HeadlessChromium.DumpDom(url));
            matched = cells.SequenceEqual(ManifestCells(lake));
            if (!matched && attempt == 2) Assert.Equal(ManifestCells(lake), cells);
        }

        // The lag figure is the one status --json gives, but for the seconds between the two.
        var before = DateTimeOffset.UtcNow;
        var page = HeadlessChromium.DumpDom(url);
        var json = JsonNode.Parse(CliRunner.Run(lake.Args("status", "--json")).Output)!;
        var elapsed = (DateTimeOffset.UtcNow - before).TotalSeconds;
        var pageLag = double.Parse(LagFigure().Match(page).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.InRange(pageLag, (double)json["lag_seconds"]! - elapsed - 1, (double)json["lag_seconds"]! + 1);
        Assert.Equal((string)json["health"]!, Regex.Match(page, "id=\"verdict\"[^>]*>([a-z]+)<").Groups[1].Value, ignoreCase: true);

        // A day made to differ: the reconciler finds it, rebuilds it, and the page says so.
        var yesterday = DateOnly.FromDateTime(t0.UtcDateTime).AddDays(-1);
        await source.ExecuteAsync($"DELETE FROM metrics WHERE sensor_id = (SELECT min(sensor_id) FROM metrics) AND ts >= '{LakeLayout.DateKey(yesterday)}' AND ts < '{LakeLayout.DateKey(yesterday.AddDays(1))}'");
        string? mark = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (mark is not ("differs" or "rebuilding" or "rebuilt") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(1000);
            mark = DayMark(HeadlessChromium.DumpDom(url), yesterday);
        }
        Assert.True(mark is "differs" or "rebuilding" or "rebuilt", $"yesterday is marked '{mark}' after 90 s");
        await daemon.WaitForOutputAsync("Rebuilt " + LakeLayout.DateKey(yesterday), TimeSpan.FromSeconds(60));
        daemon.Signal("TERM");
        Assert.Equal(0, daemon.WaitForExit(TimeSpan.FromSeconds(30)));

        // Without the daemon, status --html writes the same page from the lake on disk.
        using var dir = new TempDirectory();
        var file = dir.Combine("lake.html");
        Assert.Equal(2, CliRunner.Run([.. lake.Args("status", "--html", file)]).ExitCode);
        var offline = HeadlessChromium.DumpDom(new Uri(file).AbsoluteUri);
        Assert.Equal(ManifestCells(lake), Cells(offline));
        Assert.Equal("rebuilt", DayMark(offline, yesterday));
        Assert.Contains("the daemon is not running", offline);
        Assert.Matches("data-kind=\"reconcile\"", offline);
    }

    private static List<(string Date, string Shard, int Files)> Cells(string dom) =>
        [.. Cell().Matches(dom).Select(m => (m.Groups[1].Value, m.Groups[2].Value, int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)))
            .OrderBy(c => c.Item1, StringComparer.Ordinal).ThenBy(c => c.Item2, StringComparer.Ordinal)];

    private static List<(string Date, string Shard, int Files)> ManifestCells(LakeUnderTest lake) =>
        [.. lake.Manifest.Metrics.Partitions.SelectMany(p => p.Value.Shards.Select(s => (p.Key, s.Key, s.Value.Files.Count)))
            .OrderBy(c => c.Item1, StringComparer.Ordinal).ThenBy(c => c.Item2, StringComparer.Ordinal)];

    private static string? DayMark(string dom, DateOnly day)
    {
        var row = Regex.Match(dom, $"<tr [^>]*data-date=\"{LakeLayout.DateKey(day)}\"[^>]*>");
        var mark = Regex.Match(row.Value, "data-reconcile=\"([a-z]+)\"");
        return mark.Success ? mark.Groups[1].Value : null;
    }

    [GeneratedRegex("data-date=\"([0-9-]+)\" data-shard=\"([0-9]+)\" data-files=\"([0-9]+)\"")]
    private static partial Regex Cell();

    [GeneratedRegex("id=\"lag\" data-seconds=\"([0-9.]+)\"")]
    private static partial Regex LagFigure();
}
