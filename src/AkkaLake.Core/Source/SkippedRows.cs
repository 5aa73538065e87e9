namespace AkkaLake.Core.Source;

/// <summary>Rows the source held that the lake cannot take, counted by reason, with a few keys to log.</summary>
public sealed class SkippedRows
{
    public const int MaxSamples = 5;

    private readonly Dictionary<string, long> _counts = new(StringComparer.Ordinal);
    private readonly List<string> _samples = [];

    public long Total { get; private set; }
    public IReadOnlyDictionary<string, long> ByReason => _counts;
    public IReadOnlyList<string> SampleKeys => _samples;

    public void Add(string reason, string key)
    {
        Total++;
        _counts[reason] = _counts.GetValueOrDefault(reason) + 1;
        if (_samples.Count < MaxSamples) _samples.Add($"{key} ({reason})");
    }

    public void AddRange(SkippedRows other)
    {
        foreach (var (reason, n) in other._counts)
            _counts[reason] = _counts.GetValueOrDefault(reason) + n;
        Total += other.Total;
        foreach (var s in other._samples)
            if (_samples.Count < MaxSamples) _samples.Add(s);
    }

    public override string ToString() => string.Join(", ", _counts.Select(kv => $"{kv.Value} {kv.Key}"));
}
