using System.Globalization;
using System.IO.Hashing;

namespace AkkaLake.Core.Storage;

/// <summary>XXH3-64 of a whole file, as 16 hex digits: what the manifest records and verify compares.</summary>
public static class FileChecksum
{
    public static string Of(string path)
    {
        var hash = new XxHash3();
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 20))
            hash.Append(stream);
        return hash.GetCurrentHashAsUInt64().ToString("x16", CultureInfo.InvariantCulture);
    }
}
