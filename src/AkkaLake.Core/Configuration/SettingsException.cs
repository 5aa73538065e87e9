namespace AkkaLake.Core.Configuration;

/// <summary>One or more settings are invalid; the message names each setting and what is wrong.</summary>
public sealed class SettingsException(IReadOnlyList<string> problems)
    : Exception("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
