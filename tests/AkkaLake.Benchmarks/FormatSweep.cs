using AkkaLake.Core.Configuration;
using AkkaLake.Core.Manifest;
using AkkaLake.Core.Parquet;
using ParquetSharp;

namespace AkkaLake.Benchmarks;

/// <summary>
/// Encodings and compression measured against DuckDB's reader: the lake's files written again
/// each way (same rows, same row groups, same names), read as the controller reads them, in turns
/// with DuckDB's own files of the same rows.
/// </summary>
internal static class FormatSweep
{
    public static readonly PartEncoding[] Variants =
    [
        PartEncoding.Default,
        new("ts dictionary up to 128 KiB a row group, else deltas; byte-stream-split value; zstd 3", Encoding.DeltaBinaryPacked, true, Encoding.ByteStreamSplit, 3, DictionaryPageBytes: 128 * 1024),
        new("ts dictionary up to 32 KiB a row group, else deltas; byte-stream-split value; zstd 3", Encoding.DeltaBinaryPacked, true, Encoding.ByteStreamSplit, 3, DictionaryPageBytes: 32 * 1024),
        new("ts dictionary where readings share instants, else deltas; byte-stream-split value; zstd 1", Encoding.DeltaBinaryPacked, null, Encoding.ByteStreamSplit, 1),
        new("delta ts, byte-stream-split value, zstd 3", Encoding.DeltaBinaryPacked, false, Encoding.ByteStreamSplit, 3),
        new("plain ts and value, zstd 3", Encoding.Plain, false, Encoding.Plain, 3),
        new("delta ts, plain value, zstd 3", Encoding.DeltaBinaryPacked, false, Encoding.Plain, 3),
        new("dictionary ts (else plain), plain value, zstd 3", Encoding.Plain, true, Encoding.Plain, 3),
        new("dictionary ts (else delta), byte-stream-split value, zstd 3", Encoding.DeltaBinaryPacked, true, Encoding.ByteStreamSplit, 3),
        new("plain ts and value, zstd 1", Encoding.Plain, false, Encoding.Plain, 1),
        new("plain ts and value, zstd 3, 64 KiB pages", Encoding.Plain, false, Encoding.Plain, 3, 64 * 1024),
    ];

    public static void Run(LakeSettings settings, LakeManifest manifest, ControllerReads reads, string work, Dictionary<string, object> results)
    {
        for (var v = 0; v < Variants.Length; v++)
        {
            var variant = Variants[v];
            var root = Path.Combine(work, $"format-{v}");
            long bytes = 0;
            foreach (var file in manifest.Files())
            {
                var target = Path.Combine(root, file.RelativePath);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using (var reader = new PartReader(settings.Roots.Resolve(file.Location, file.RelativePath)))
                using (var writer = new PartWriter(target + ".tmp", reader.Metadata!, settings.RowGroupRows, variant))
                {
                    foreach (var batch in reader.ReadBatches(65_536)) writer.Append(batch);
                    bytes += writer.Finish().Bytes;
                }
                File.Move(target + ".tmp", target);
            }
            var timings = reads.Compare(root);
            results[$"format_{v}_bytes"] = bytes;
            Console.WriteLine($"format \"{variant.Name}\": {bytes / 1048576.0:0.0} MiB (DuckDB's {reads.ReferenceBytes / 1048576.0:0.0} MiB); " +
                string.Join("; ", timings.Select(t => $"{t.Name} {t.Ms:0.0} ms against {t.ReferenceMs:0.0} ({t.Ms / t.ReferenceMs:0.00} x)")));
            foreach (var t in timings) results[$"format_{v}_{t.Name}_ratio_to_duckdb"] = t.Ms / t.ReferenceMs;
            Directory.Delete(root, recursive: true);
        }
    }
}
