using AkkaLake.Core.Source;

namespace AkkaLake.Core.Replication;

/// <summary>What a batch's rows were, counted as its chunks arrive and its writers flush; read once the batch is written.</summary>
public sealed class BatchTally
{
    /// <summary>Rows handed to the lake's writers (not those skipped or older than the hot horizon).</summary>
    public long Rows { get; private set; }
    public long TooOld { get; private set; }
    public long NonFinite { get; private set; }
    public long NullQualities { get; private set; }
    public long? MaxInsertedAtMicros { get; private set; }
    public SkippedRows Skipped { get; } = new();

    /// <summary>Older versions of the batch's keys dropped by rewriting the committed files holding them.</summary>
    public long SupersededRows { get; private set; }

    /// <summary>Readings the lake already held unchanged, not written again.</summary>
    public long Unchanged { get; private set; }

    /// <summary>Readings placed into the committed files that held or cover them, written anew.</summary>
    public long Placed { get; private set; }

    public void Add(SourceChunk chunk)
    {
        Rows += chunk.Rows.Count;
        TooOld += chunk.Rows.TooOld;
        NonFinite += chunk.NonFiniteValues;
        NullQualities += chunk.NullQualities;
        Skipped.AddRange(chunk.Skipped);
        if (chunk.MaxInsertedAtMicros is { } m && (MaxInsertedAtMicros is null || m > MaxInsertedAtMicros))
            MaxInsertedAtMicros = m;
    }

    /// <summary>Readings whose time falls in committed files, left for a later batch (<see cref="CorrectionHold"/>).</summary>
    public long Held { get; private set; }

    public void Flushed(long supersededRows, long unchanged, long placed, long held = 0)
    {
        SupersededRows += supersededRows;
        Unchanged += unchanged;
        Placed += placed;
        Held += held;
    }

    /// <summary>
    /// Why the batch must not be committed: its new parts hold other than the rows it read less
    /// those the lake already held unchanged and those placed into committed files (the source's
    /// primary key leaves no other duplicates to collapse). Null when they agree.
    /// </summary>
    public string? Discrepancy(long rowsInParts) =>
        rowsInParts == Rows - Unchanged - Placed - Held
            ? null
            : $"its parts hold {rowsInParts:N0} rows, but it read {Rows:N0} of which the lake held {Unchanged:N0} unchanged, {Placed:N0} went into committed files " +
              $"and {Held:N0} were left for a later batch, so {Rows - Unchanged - Placed - Held:N0} were to be written";
}
