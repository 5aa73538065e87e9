using Xunit;

namespace AkkaLake.Tests.Support;

/// <summary>
/// A test that needs an optional tool: skipped, with the reason and the install command, where
/// the file is missing (CI installs it, so there it always runs).
/// </summary>
public sealed class FactNeedingFileAttribute : FactAttribute
{
    public FactNeedingFileAttribute(string path, string install)
    {
        if (!File.Exists(path)) Skip = $"{path} is missing: {install}";
    }
}
