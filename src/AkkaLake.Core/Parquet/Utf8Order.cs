namespace AkkaLake.Core.Parquet;

/// <summary>
/// Orders strings by their UTF-8 bytes, as DuckDB and Parquet statistics do. Plain ordinal
/// (UTF-16) order disagrees for characters from U+E000 upwards versus surrogate pairs.
/// </summary>
public sealed class Utf8Order : IComparer<string>
{
    public static readonly Utf8Order Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        var n = Math.Min(x.Length, y.Length);
        for (var i = 0; i < n; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a != b)
                return Fix(a) - Fix(b);
        }
        return x.Length - y.Length;
    }

    // Moves surrogates (UTF-8 4-byte sequences) above U+E000..U+FFFF (3-byte sequences).
    private static int Fix(char c) => c >= 0xD800 ? (c >= 0xE000 ? c - 0x800 : c + 0x2000) : c;
}
