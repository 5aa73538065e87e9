namespace AkkaLake.Testing;

/// <summary>The checkout the tests run from, for tests of its files (docs, deploy scripts).</summary>
public static class Repository
{
    public static readonly string Root = Find();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AkkaLake.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("AkkaLake.sln not found above the test directory.");
    }
}
