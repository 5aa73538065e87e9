namespace AkkaLake.Core.Configuration;

/// <summary>One or more settings are invalid; the message, one line, names each setting and what is wrong.</summary>
public sealed class SettingsException(IReadOnlyList<string> problems)
    : Exception("Invalid configuration: " + string.Join(" ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
