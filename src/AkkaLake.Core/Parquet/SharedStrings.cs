namespace AkkaLake.Core.Parquet;

/// <summary>
/// One string per distinct UTF-8 value (sensor ids, the handful of sources): looked up by the
/// decoded characters, so a row allocates no string, and rows of one sensor share one instance,
/// which later comparisons settle by reference. With millions of distinct ids it starts over
/// instead of growing.
/// </summary>
public sealed class SharedStrings
{
    private const int MaxStrings = 100_000;
    private readonly Dictionary<string, string> _strings = new(StringComparer.Ordinal);
    private char[] _chars = new char[256];

    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (_chars.Length < utf8.Length) _chars = new char[Math.Max(utf8.Length, _chars.Length * 2)];
        var chars = _chars.AsSpan(0, System.Text.Encoding.UTF8.GetChars(utf8, _chars));
        if (_strings.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out var shared)) return shared;
        if (_strings.Count >= MaxStrings) _strings.Clear();
        shared = new string(chars);
        _strings[shared] = shared;
        return shared;
    }
}
