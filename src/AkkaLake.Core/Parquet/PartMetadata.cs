using AkkaLake.Core.Manifest;

namespace AkkaLake.Core.Parquet;

/// <summary>
/// What a part file says about itself in its Parquet key-value metadata, so the manifest can be
/// rebuilt from the files alone: who wrote it, in which run, and the cursor range it covers.
/// </summary>
public sealed record PartMetadata(string RunId, CommitKind Kind, DateTimeOffset? CursorFrom, DateTimeOffset? CursorTo, IReadOnlyList<string>? Inputs = null)
{
    public const string Writer = "akkalake";

    /// <summary>
    /// The footer's <c>created_by</c>, in the form parquet-mr's VersionParser reads: a string it
    /// cannot parse makes Spark, Hive and other parquet-mr readers ignore every string statistic.
    /// </summary>
    public static readonly string CreatedBy = CreatedByOf(typeof(PartMetadata).Assembly);

    private static string CreatedByOf(System.Reflection.Assembly assembly)
    {
        var informational = assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0.0.0";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        var version = plus < 0 ? informational : informational[..plus];
        var build = plus < 0 ? "unknown" : informational[(plus + 1)..][..Math.Min(12, informational.Length - plus - 1)];
        return $"{Writer} version {version} (build {build})";
    }
    private const string KeyWriter = "akkalake.writer";
    private const string KeyRunId = "akkalake.run_id";
    private const string KeyKind = "akkalake.kind";
    private const string KeyCursorFrom = "akkalake.cursor_from";
    private const string KeyCursorTo = "akkalake.cursor_to";
    private const string KeyInputs = "akkalake.inputs";

    public IReadOnlyDictionary<string, string> ToKeyValues()
    {
        var kv = new Dictionary<string, string>
        {
            [KeyWriter] = $"{Writer} {typeof(PartMetadata).Assembly.GetName().Version}",
            [KeyRunId] = RunId,
            [KeyKind] = Kind.Name,
        };
        if (CursorFrom is { } from) kv[KeyCursorFrom] = Timestamps.Format(from);
        if (CursorTo is { } to) kv[KeyCursorTo] = Timestamps.Format(to);
        // A compaction output names the files it replaces, so a manifest rebuilt from footers can drop them.
        if (Inputs is { Count: > 0 } inputs) kv[KeyInputs] = string.Join('/', inputs);
        return kv;
    }

    private static DateTimeOffset Cursor(string text)
    {
        try
        {
            return Timestamps.Parse(text);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"The part's footer records a cursor \"{text}\" that is not a timestamp.", e);
        }
    }

    public static PartMetadata? FromKeyValues(IReadOnlyDictionary<string, string> kv)
    {
        if (!kv.TryGetValue(KeyRunId, out var runId) || !kv.TryGetValue(KeyKind, out var kind))
            return null;
        if (!CommitKind.TryParse(kind, out var commitKind))
            throw new InvalidDataException($"The part's footer records a kind \"{kind}\" that AkkaLake does not write.");
        return new PartMetadata(
            runId,
            commitKind,
            kv.TryGetValue(KeyCursorFrom, out var from) ? Cursor(from) : null,
            kv.TryGetValue(KeyCursorTo, out var to) ? Cursor(to) : null,
            kv.TryGetValue(KeyInputs, out var inputs) ? inputs.Split('/') : null);
    }
}
