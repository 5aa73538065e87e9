using Npgsql;

namespace AkkaLake.Core.Source;

/// <summary>One piece of the source table: a range of row locations (blocks) of one relation, read on its own.</summary>
/// <param name="Relation">The relation, quoted as PostgreSQL prints it: the table, or one of its partitions or chunks.</param>
/// <param name="ToBlock">Where the range ends (exclusive); null reads to the relation's end, rows added after it was measured included.</param>
public sealed record TablePiece(string Relation, long FromBlock, long? ToBlock)
{
    /// <summary>The piece's rows, by row location: a TID range scan (PostgreSQL 14 and later) reads only its blocks.</summary>
    public string Condition => ToBlock is { } to
        ? $"ctid >= '({FromBlock},0)'::tid AND ctid < '({to},0)'::tid"
        : $"ctid >= '({FromBlock},0)'::tid";

    public string Describe() => $"{Relation} blocks {FromBlock}-{(ToBlock is { } to ? (to - 1).ToString() : "end")}";
}

/// <summary>
/// Splits the source table into pieces read in parallel, the way PeerDB and supabase/etl copy a
/// table: by row location, so every piece is a sequential read whatever order the rows lie in. A
/// table partitioned by time (declaratively, or by inheritance as TimescaleDB's chunks are) is
/// split per partition, as only a relation holding rows has row locations. More pieces than
/// streams, so a stream that finishes early takes the next instead of waiting on the slowest.
/// </summary>
public static class TablePieces
{
    /// <summary>Pieces per stream: enough for the streams to even out, few enough that each read is long.</summary>
    public const int PiecesPerStream = 4;

    /// <summary>The smallest piece worth a read of its own: 8 MB of the default 8 KB blocks.</summary>
    public const long SmallestPieceBlocks = 1024;

    /// <summary>Every relation of the table holding rows, with its size in blocks.</summary>
    public static IReadOnlyList<(string Relation, long Blocks)> Relations(NpgsqlConnection connection, SourceTable table, NpgsqlTransaction? transaction)
    {
        using var command = new NpgsqlCommand("""
            WITH RECURSIVE tree(oid) AS (
              SELECT @table::regclass::oid
              UNION ALL
              SELECT i.inhrelid FROM pg_inherits i JOIN tree t ON i.inhparent = t.oid)
            SELECT c.oid::regclass::text, pg_relation_size(c.oid) / current_setting('block_size')::bigint
            FROM tree JOIN pg_class c ON c.oid = tree.oid
            WHERE c.relkind = 'r'
            ORDER BY 1
            """, connection, transaction);
        command.Parameters.AddWithValue("table", table.QuotedName);
        var relations = new List<(string, long)>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            relations.Add((reader.GetString(0), reader.GetInt64(1)));
        return relations;
    }

    /// <summary>
    /// Pieces of about equal blocks, <see cref="PiecesPerStream"/> per stream in all, none under
    /// <paramref name="smallestBlocks"/>; each relation's last piece reaches to its end.
    /// </summary>
    public static IReadOnlyList<TablePiece> Plan(IReadOnlyList<(string Relation, long Blocks)> relations, int streams, long smallestBlocks = SmallestPieceBlocks)
    {
        var total = relations.Sum(r => r.Blocks);
        var pieceBlocks = Math.Max(smallestBlocks, (total + streams * PiecesPerStream - 1) / (streams * PiecesPerStream));
        var pieces = new List<TablePiece>();
        foreach (var (relation, blocks) in relations)
        {
            var from = 0L;
            for (; from + pieceBlocks < blocks; from += pieceBlocks)
                pieces.Add(new TablePiece(relation, from, from + pieceBlocks));
            pieces.Add(new TablePiece(relation, from, null));
        }
        return pieces;
    }
}
