using ParquetSharp;

namespace AkkaLake.Core.Parquet;

/// <summary>
/// How a part's <c>ts</c> and <c>value</c> columns are encoded and the file compressed. The lake
/// writes <see cref="Default"/>; the benchmark writes the others beside it to measure them against
/// DuckDB's reader.
/// </summary>
/// <param name="TsDictionary">
/// Dictionary-encode ts (falling back to <paramref name="Ts"/> if the dictionary outgrows its
/// page); null: only when the part's first row group holds at most one distinct ts in
/// <see cref="SharedInstants"/> rows, as readings taken on a common cadence do.
/// </param>
/// <param name="DataPageBytes">Target size of a data page; null for ParquetSharp's default (1 MiB).</param>
/// <param name="DictionaryPageBytes">Past this size a column chunk's dictionary falls back to the plain encoding; null for ParquetSharp's default (1 MiB).</param>
public sealed record PartEncoding(string Name, Encoding Ts, bool? TsDictionary, Encoding Value, int ZstdLevel, long? DataPageBytes = null, long? DictionaryPageBytes = null)
{
    /// <summary>
    /// Measured against DuckDB's reader with the controller's four reads (docs/benchmarks.md,
    /// "Spill session"): on readings aligned to a cadence a ts dictionary read 0.99 x DuckDB's own
    /// files and deltas 1.09 x; on jittered readings deltas read 0.65-0.88 x and a dictionary of
    /// distinct values 0.94-1.11 x. Byte-stream-split values beat plain ones on both.
    /// </summary>
    public static readonly PartEncoding Default = new("ts dictionary where readings share instants, else deltas; byte-stream-split value; zstd 3",
        Encoding.DeltaBinaryPacked, null, Encoding.ByteStreamSplit, 3);

    public const int SharedInstants = 4;

    /// <summary>Whether a part whose first row group holds <paramref name="ts"/> dictionary-encodes its ts.</summary>
    public bool DictionaryFor(ReadOnlySpan<long> ts)
    {
        if (TsDictionary is { } fixedChoice) return fixedChoice;
        var distinct = new HashSet<long>();
        foreach (var t in ts)
            if (distinct.Add(t) && distinct.Count * SharedInstants > ts.Length) return false;
        return true;
    }
}
