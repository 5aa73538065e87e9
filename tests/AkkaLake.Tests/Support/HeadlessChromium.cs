using System.Diagnostics;
using AkkaLake.Testing;

namespace AkkaLake.Tests.Support;

/// <summary>Debian's chromium, headless: the DOM of a page after its scripts ran.</summary>
public static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";
    public const string Install = "apt-get install --no-install-recommends chromium";

    public static string DumpDom(string url)
    {
        using var profile = new TempDirectory();
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Root needs --no-sandbox; the profile of its own keeps parallel runs apart; virtual time lets the page's scripts finish.
            ArgumentList = { "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", $"--user-data-dir={profile.Path}", "--virtual-time-budget=5000", "--dump-dom", url },
        };
        using var process = Process.Start(start)!;
        var dom = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not render {url} within 60 s");
        }
        if (process.ExitCode != 0 || dom.Result.Length == 0)
            throw new InvalidOperationException($"chromium exited {process.ExitCode} on {url}: {errors.Result}");
        return dom.Result;
    }
}
