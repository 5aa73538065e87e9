using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using AkkaLake.Core.Configuration;
using AkkaLake.Core.Storage;

namespace AkkaLake.Core.Manifest;

/// <summary>A manifest that exists but cannot be trusted. It is never overwritten automatically.</summary>
public sealed class ManifestUnreadableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Loads and saves a lake's manifest under <c>_state/</c>, so that a commit writes what it changed
/// and little else: the root <c>manifest.json</c> (every field the controller reads, the watermark,
/// and per partition the name of its file list), the file lists of the partitions the commit
/// touched (<c>files/&lt;date&gt;.&lt;commit&gt;.json</c>, never rewritten), and the commit's intent
/// (<c>commits/&lt;seq&gt;.json</c>, written before its renames, kept while the files it superseded
/// wait out their grace). Every file is written whole to a temp file, flushed and renamed; the
/// root's rename is a commit's commit point. File lists no root names any more go a minute later.
/// </summary>
public sealed class ManifestStore(string statePath)
{
    public const string FileName = "manifest.json";
    public const string FileListDirectory = "files";
    public const string CommitDirectory = "commits";

    /// <summary>A file list no root names any more is kept this long for readers that read the root before.</summary>
    private static readonly TimeSpan UnreferencedListGrace = TimeSpan.FromMinutes(1);

    // The file lists this store last read or wrote, by date: the shards they hold (by reference, as the manifest is immutable) and their file.
    private readonly Dictionary<string, (ImmutableSortedDictionary<string, ShardState> Shards, string FileList)> _lists = new(StringComparer.Ordinal);
    // Deletions the intents of landed commits record, by file (a due time read back from JSON has lost its sub-microsecond ticks);
    // any other (an older build's, one made by hand) is kept in the root until done.
    private readonly HashSet<FileLocation> _inIntents = [];
    // Each intent's deletions, read once: a commit every 10 s must not re-read the hour of intents its grace keeps.
    private readonly Dictionary<string, FileLocation[]> _intentDeletions = new(StringComparer.Ordinal);
    private ImmutableHashSet<PendingDeletion> _inRoot = [];
    private DateTimeOffset _lastListSweep = DateTimeOffset.MinValue;

    /// <summary>The manifest of the lake the settings name, for a command that reads it; a clear error when there is no lake there.</summary>
    public static LakeManifest LoadLake(LakeSettings settings) =>
        new ManifestStore(settings.StatePath).Load() ?? throw new InvalidOperationException($"There is no lake at {settings.HotPath}.");

    public string StatePath { get; } = statePath;

    public string FilePath { get; } = Path.Combine(statePath, FileName);

    public bool Exists => File.Exists(FilePath);

    private string ListPath(string name) => Path.Combine(StatePath, FileListDirectory, name);

    private string CommitPath(long seq) => Path.Combine(StatePath, CommitDirectory, seq.ToString("D12", CultureInfo.InvariantCulture) + ".json");

    /// <summary>The manifest, or null when the lake has none yet.</summary>
    public LakeManifest? Load()
    {
        // A writer may replace the root and drop a file list between the two reads: once more from the newer root.
        for (var attempt = 0; ; attempt++)
        {
            if (!Exists) return null;
            var bytes = File.ReadAllBytes(FilePath);
            try
            {
                return Assemble(bytes);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException && attempt == 0)
            {
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new ManifestUnreadableException(
                    $"The manifest {FilePath} names a file list that is missing ({e.Message}). It was left untouched; rebuild it with 'akkalake verify --rebuild-manifest'.", e);
            }
        }
    }

    /// <summary>A root and what it names, read into the manifest every part of AkkaLake works with.</summary>
    private LakeManifest Assemble(byte[] rootBytes)
    {
        var root = ParseRoot(rootBytes, FilePath);
        _lists.Clear();
        var datasets = root.Datasets.ToImmutableSortedDictionary(d => d.Key, d => new DatasetState(
            d.Value.ComputedThroughTs,
            d.Value.Backfill,
            d.Value.Partitions.ToImmutableSortedDictionary(p => p.Key, p => Partition(p.Key, p.Value)),
            d.Value.ExpiredPartitions,
            d.Value.Takeover,
            d.Value.DaysToRebuild));
        var (pending, deletions) = Intents(root.CommitSeq);
        _inIntents.Clear();
        _inIntents.UnionWith(deletions.Select(Key));
        _inRoot = [.. root.PendingDeletions ?? []];
        var manifest = new LakeManifest(root.SchemaVersion, root.Shards, root.CommitSeq, root.UpdatedAt, pending ?? root.PendingCommit,
            [.. root.PendingDeletions ?? [], .. deletions], datasets);
        if (ManifestShape.Problem(manifest) is { } problem)
            throw Refusal(rootBytes, FilePath,
                $"The manifest {FilePath} is damaged: {problem}. It was left untouched; restore it from a backup or rebuild it with 'akkalake verify --rebuild-manifest'.");
        return manifest;
    }

    private PartitionState Partition(string date, StoredPartition p)
    {
        var shards = p.Shards;
        if (p.FileList is { } name)
        {
            if (name.Contains('/') || name.Contains('\\') || name.StartsWith('.'))
                throw new ManifestUnreadableException($"The manifest {FilePath} names a file list \"{name}\" outside {FileListDirectory}/. It was left untouched.");
            var path = ListPath(name);
            var bytes = File.ReadAllBytes(path);
            try
            {
                shards = JsonSerializer.Deserialize<StoredFileList>(bytes, LakeJson.Options)?.Shards;
            }
            catch (Exception e) when (e is JsonException or FormatException or NotSupportedException or ArgumentException)
            {
                throw new ManifestUnreadableException($"The file list {path} of partition {date} cannot be read ({e.Message}). It was left untouched; rebuild the manifest with 'akkalake verify --rebuild-manifest'.", e);
            }
            if (shards is null) throw new ManifestUnreadableException($"The file list {path} of partition {date} is empty. It was left untouched.");
            _lists[date] = (shards, name);
        }
        return new PartitionState(p.Location, p.UpdatedAt, p.LastCompactedAt, p.FileCount, p.Rows, p.Bytes, shards!);
    }

    /// <summary>The commit in progress (the intent just past the root's commit_seq), and the deletions the landed ones scheduled.</summary>
    private (PendingCommit? Pending, List<PendingDeletion> Deletions) Intents(long commitSeq)
    {
        PendingCommit? pending = null;
        var deletions = new List<PendingDeletion>();
        var directory = Path.Combine(StatePath, CommitDirectory);
        if (!Directory.Exists(directory)) return (null, deletions);
        foreach (var file in Directory.GetFiles(directory, "*.json").Order(StringComparer.Ordinal))
        {
            StoredCommit? intent;
            try
            {
                intent = JsonSerializer.Deserialize<StoredCommit>(File.ReadAllBytes(file), LakeJson.Options);
            }
            catch (Exception e) when (e is JsonException or FormatException or NotSupportedException or ArgumentException)
            {
                throw new ManifestUnreadableException($"The commit record {file} cannot be read ({e.Message}). It was left untouched.", e);
            }
            if (intent?.Commit is not { } commit) continue;
            if (commit.CommitSeq == commitSeq + 1) pending = commit;
            else if (commit.CommitSeq <= commitSeq) deletions.AddRange(intent.Deletions ?? []);
        }
        return (pending, deletions);
    }

    /// <summary>
    /// Records that a commit has begun: its intent, with the files it will publish, those it
    /// supersedes, and the deletions that become due once it has landed. Written before its renames.
    /// </summary>
    public void BeginCommit(PendingCommit pending, IEnumerable<PendingDeletion> scheduled)
    {
        Directory.CreateDirectory(Path.Combine(StatePath, CommitDirectory));
        var intent = new StoredCommit(pending, [.. scheduled]);
        AtomicFile.Write(CommitPath(pending.CommitSeq), stream => JsonSerializer.Serialize(stream, intent, LakeJson.Compact));
        _inIntents.UnionWith(intent.Deletions.Select(Key));
    }

    /// <summary>
    /// Drops every commit record: for a manifest rebuilt from the files, whose history they are
    /// not (one of them could otherwise read as a commit in progress of the new manifest).
    /// </summary>
    public void ForgetCommits()
    {
        var directory = Path.Combine(StatePath, CommitDirectory);
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        _inIntents.Clear();
    }

    /// <summary>An undone commit leaves no intent behind.</summary>
    public void AbandonCommit(PendingCommit pending) => AtomicFile.DeleteQuietly(CommitPath(pending.CommitSeq));

    /// <summary>
    /// Saves the manifest: the file lists of partitions that changed since this store last read or
    /// wrote them, then the root, whose rename is the commit point. A manifest with a commit in
    /// progress is not saved: that is <see cref="BeginCommit"/>'s.
    /// </summary>
    public void Save(LakeManifest manifest)
    {
        if (manifest.PendingCommit is not null)
            throw new InvalidOperationException("A manifest with a commit in progress is recorded by BeginCommit, not saved.");
        // The file lists first, each flushed, so that the root never names one that is not whole on disk.
        var lists = new Dictionary<string, (ImmutableSortedDictionary<string, ShardState> Shards, string FileList)>(StringComparer.Ordinal);
        foreach (var (date, partition) in manifest.Datasets.Values.SelectMany(d => d.Partitions))
            lists[date] = ListFor(date, partition.Shards, manifest.CommitSeq);
        var datasets = manifest.Datasets.ToImmutableSortedDictionary(d => d.Key, d => new StoredDataset(
            d.Value.ComputedThroughTs,
            d.Value.Backfill,
            d.Value.Partitions.ToImmutableSortedDictionary(p => p.Key, p => new StoredPartition(p.Value.Location, p.Value.UpdatedAt, p.Value.LastCompactedAt,
                p.Value.FileCount, p.Value.Rows, p.Value.Bytes, lists[p.Key].FileList)),
            d.Value.ExpiredPartitions,
            d.Value.Takeover,
            d.Value.DaysToRebuild));
        var inRoot = manifest.PendingDeletions.Where(d => !_inIntents.Contains(Key(d))).ToImmutableList();
        var root = new StoredManifest(manifest.SchemaVersion, manifest.Shards, manifest.CommitSeq, manifest.UpdatedAt, datasets, PendingDeletions: inRoot.IsEmpty ? null : inRoot);
        AtomicFile.Write(FilePath, stream => JsonSerializer.Serialize(stream, root, LakeJson.Compact));
        _lists.Clear();
        foreach (var (date, list) in lists) _lists[date] = list;
        _inRoot = [.. inRoot];
        ForgetDoneIntents(manifest);
        SweepUnreferencedLists(lists.Values.Select(l => l.FileList).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>After files past their grace were deleted: the intents whose files are all gone go too (and the root is written only if it recorded some of them).</summary>
    public void SaveDeletions(LakeManifest manifest)
    {
        if (_inRoot.Any(d => !manifest.PendingDeletions.Contains(d)))
            Save(manifest);
        else
            ForgetDoneIntents(manifest);
    }

    /// <summary>The partition's file list: the one written before if its shards did not change, else a new one, written now.</summary>
    private (ImmutableSortedDictionary<string, ShardState> Shards, string FileList) ListFor(string date, ImmutableSortedDictionary<string, ShardState> shards, long commitSeq)
    {
        if (_lists.TryGetValue(date, out var known) && ReferenceEquals(known.Shards, shards)) return known;
        var name = $"{date}.{commitSeq.ToString("D12", CultureInfo.InvariantCulture)}.json";
        Directory.CreateDirectory(Path.Combine(StatePath, FileListDirectory));
        AtomicFile.Write(ListPath(name), stream => JsonSerializer.Serialize(stream, new StoredFileList(shards), LakeJson.Compact));
        return (shards, name);
    }

    /// <summary>Intents of landed commits none of whose deletions the manifest still awaits.</summary>
    private void ForgetDoneIntents(LakeManifest manifest)
    {
        var directory = Path.Combine(StatePath, CommitDirectory);
        if (!Directory.Exists(directory)) return;
        var awaited = manifest.PendingDeletions.Select(Key).ToHashSet();
        foreach (var file in Directory.GetFiles(directory, "*.json"))
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(file), NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || seq > manifest.CommitSeq) continue;
            if (!_intentDeletions.TryGetValue(file, out var deletions))
            {
                try
                {
                    deletions = [.. JsonSerializer.Deserialize<StoredCommit>(File.ReadAllBytes(file), LakeJson.Options)?.Deletions?.Select(Key) ?? []];
                }
                catch (Exception e) when (e is JsonException or IOException)
                {
                    continue;
                }
                _intentDeletions[file] = deletions;
            }
            if (deletions.Any(awaited.Contains)) continue;
            AtomicFile.DeleteQuietly(file);
            _intentDeletions.Remove(file);
            _inIntents.ExceptWith(deletions);
        }
    }

    private static FileLocation Key(PendingDeletion d) => new(d.Location, d.Path);

    /// <summary>File lists no root names, written over a minute ago: no reader that read a root since needs them.</summary>
    private void SweepUnreferencedLists(HashSet<string> referenced)
    {
        var now = DateTimeOffset.UtcNow;
        if (now - _lastListSweep < UnreferencedListGrace) return;
        _lastListSweep = now;
        var directory = Path.Combine(StatePath, FileListDirectory);
        if (!Directory.Exists(directory)) return;
        foreach (var file in Directory.GetFiles(directory, "*.json"))
            if (!referenced.Contains(Path.GetFileName(file)) && now - File.GetLastWriteTimeUtc(file) > UnreferencedListGrace)
                AtomicFile.DeleteQuietly(file);
    }

    /// <summary>The root's own checks: that it is an AkkaLake manifest this build understands.</summary>
    private static StoredManifest ParseRoot(byte[] bytes, string source)
    {
        StoredManifest? root;
        try
        {
            root = JsonSerializer.Deserialize<StoredManifest>(bytes, LakeJson.Options);
        }
        catch (Exception e) when (e is JsonException or FormatException or NotSupportedException or ArgumentException)
        {
            throw Refusal(bytes, source,
                $"The manifest {source} cannot be read ({e.Message}). It was left untouched; restore it from a backup or rebuild it with 'akkalake verify --rebuild-manifest'.", e);
        }
        if (root is null)
            throw Refusal(bytes, source, $"The manifest {source} is empty (null). It was left untouched.");
        if (root.SchemaVersion == 0 && root.CommitSeq == 0 && root.Datasets is null or { Count: 0 })
            throw Refusal(bytes, source,
                $"The manifest {source} is not an AkkaLake manifest (no schema_version, no datasets). It was left untouched; restore it from a backup or rebuild it with 'akkalake verify --rebuild-manifest'.");
        if (root.SchemaVersion != LakeManifest.CurrentSchemaVersion)
            throw Refusal(bytes, source,
                $"The manifest {source} has schema_version {root.SchemaVersion}; this AkkaLake understands {LakeManifest.CurrentSchemaVersion}. It was left untouched.");
        if (root.Shards is < 1 or > 100)
            throw Refusal(bytes, source, $"The manifest {source} records {root.Shards} shards, which is not 1..100. It was left untouched.");
        if (root.Datasets is null || root.Datasets.Values.Any(d => d?.Partitions is null))
            throw Refusal(bytes, source, $"The manifest {source} is damaged: a dataset has no partitions. It was left untouched; rebuild it with 'akkalake verify --rebuild-manifest'.");
        foreach (var (date, p) in root.Datasets.Values.SelectMany(d => d.Partitions))
            if (p is null || (p.FileList is null && p.Shards is null))
                throw Refusal(bytes, source, $"The manifest {source} is damaged: partition {date} has no file list. It was left untouched; rebuild it with 'akkalake verify --rebuild-manifest'.");
        return root;
    }

    /// <summary>Whether these bytes are an AkkaLake root (of any build): the first implementation's manifest and foreign files are not.</summary>
    public static bool IsAkkaLakeRoot(byte[] bytes)
    {
        try
        {
            ParseRoot(bytes, "");
            return true;
        }
        catch (ManifestUnreadableException)
        {
            return false;
        }
    }

    /// <summary>
    /// Why a manifest is refused. The first implementation's manifest fails the checks above (it
    /// records no shards), so it is looked for only then, not on every load.
    /// </summary>
    private static ManifestUnreadableException Refusal(byte[] bytes, string source, string otherwise, Exception? inner = null) =>
        Takeover.FirstImplementationLake.TryParse(bytes) is not null
            ? new ManifestUnreadableException(
                $"The manifest {source} was written by the controller's first implementation. 'akkalake run' (or 'run --once') takes that lake over; see \"Running beside the controller\" in the README. It was left untouched.")
            : new ManifestUnreadableException(otherwise, inner);
}
