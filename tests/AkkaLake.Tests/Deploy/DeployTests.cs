using System.Diagnostics;
using System.Xml.Linq;
using AkkaLake.Core.Configuration;
using AkkaLake.Testing;
using Xunit;

namespace AkkaLake.Tests.Deploy;

public class DeployTests
{
    private static string Deploy(string file) => Repository.PathOf("deploy", file);

    private static (int Code, string Output) Bash(params string[] args)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    /// <summary>The plist's top-level dict as key to value element.</summary>
    private static Dictionary<string, XElement> Entries(XElement dict) =>
        dict.Elements("key").ToDictionary(k => k.Value, k => (XElement)k.NextNode!);

    [Fact]
    public void The_launchd_plist_is_well_formed_with_the_keys_a_keepalive_daemon_needs_and_default_paths()
    {
        var rendered = File.ReadAllText(Deploy("com.farmdashboard.akkalake.plist"))
            .Replace("@PREFIX@", "/usr/local/akkalake").Replace("@DATA_ROOT@", LakeSettingsParser.DefaultOf(LakeSettingsParser.DataRoot)).Replace("@USER@", "_farmdashboard");
        var plist = XDocument.Parse(rendered);
        var entries = Entries(plist.Root!.Element("dict")!);

        foreach (var key in new[] { "Label", "ProgramArguments", "UserName", "WorkingDirectory", "EnvironmentVariables", "KeepAlive", "ThrottleInterval", "StandardOutPath", "StandardErrorPath", "RunAtLoad" })
            Assert.True(entries.ContainsKey(key), $"missing {key}");
        Assert.Equal("com.farmdashboard.akkalake", entries["Label"].Value);
        Assert.Equal("_farmdashboard", entries["UserName"].Value);
        Assert.Equal(["/usr/local/akkalake/akkalake", "run", "--config", "/usr/local/akkalake/akkalake.conf"], entries["ProgramArguments"].Elements("string").Select(e => e.Value));
        Assert.Equal(LakeSettingsParser.DefaultOf(LakeSettingsParser.DataRoot), Entries(entries["EnvironmentVariables"])["CORE_DATA_ROOT"].Value);
        Assert.StartsWith(LakeSettingsParser.DefaultOf(LakeSettingsParser.DataRoot) + "/logs/", entries["StandardOutPath"].Value);
        Assert.True(int.Parse(entries["ThrottleInterval"].Value) >= 10);
        Assert.DoesNotContain("@", rendered.Replace("-//Apple//DTD", ""));
    }

    [Fact]
    public void The_install_script_dry_run_shows_every_step_and_changes_nothing()
    {
        using var root = new TempDirectory();
        var dataRoot = Path.Combine(root.Path, "Farm Dashboard");
        var (code, output) = Bash(Deploy("install.sh"), "--dry-run", "--data-root", dataRoot, "--prefix", Path.Combine(root.Path, "bin"));

        Assert.True(code == 0, output);
        Assert.Contains("dotnet publish", output);
        Assert.Contains("-r osx-arm64 --self-contained true", output);
        Assert.Contains($"chmod 0750 {dataRoot}/storage/analysis", output);
        Assert.Contains("chown -R _farmdashboard", output);
        Assert.Contains("launchctl bootstrap system /Library/LaunchDaemons/com.farmdashboard.akkalake.plist", output);
        Assert.Contains($"<string>{dataRoot}</string>", output);
        Assert.Empty(Directory.GetFileSystemEntries(root.Path));
    }

    [Fact]
    public void The_uninstall_script_dry_run_removes_the_job_and_binaries_but_not_the_lake()
    {
        var (code, output) = Bash(Deploy("uninstall.sh"), "--dry-run");
        Assert.True(code == 0, output);
        Assert.Contains("launchctl bootout system/com.farmdashboard.akkalake", output);
        Assert.Contains("rm -rf /usr/local/akkalake", output);
        Assert.DoesNotContain("FarmDashboard", output);
    }
}
