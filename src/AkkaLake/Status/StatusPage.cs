using System.Text.Json;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Status;
using AkkaLake.Hosting;

namespace AkkaLake.Status;

/// <summary>
/// The status as one JSON document (what <c>status --json</c> prints and <c>/status.json</c>
/// serves) and as one self-contained HTML page drawn from that document, so that a script and
/// the page cannot disagree.
/// </summary>
public static class StatusPage
{
    private static readonly Lazy<string> Template = new(() =>
    {
        using var stream = typeof(StatusPage).Assembly.GetManifestResourceStream("AkkaLake.Status.status-page.html")
            ?? throw new InvalidOperationException("The status page template is missing from the build.");
        return new StreamReader(stream).ReadToEnd();
    });

    /// <summary>The status of the lake at <paramref name="settings"/> now, read from disk and the log; a running daemon passes the lag it sampled.</summary>
    public static LakeStatus Take(LakeSettings settings, DateTimeOffset now, IReadOnlyList<LagPoint>? lagHistory = null)
    {
        var inputs = LakeStatusReader.Read(settings, Path.GetDirectoryName(LakeLogging.LogFilePath(settings))!, now);
        return LakeStatus.Judge(lagHistory is null ? inputs : inputs with { LagHistory = lagHistory }, now);
    }

    public static string Json(LakeStatus status) => JsonSerializer.Serialize(status, LakeJson.Options);

    /// <summary>The page with the document inside it, so it draws without a request (and from a file).</summary>
    public static string Html(LakeStatus status) =>
        // Inside a script element only "</" can end it early.
        Template.Value.Replace("/*STATUS_JSON*/", JsonSerializer.Serialize(status, LakeJson.Compact).Replace("</", "<\\/", StringComparison.Ordinal), StringComparison.Ordinal);
}
