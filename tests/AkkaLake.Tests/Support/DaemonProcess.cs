using System.Diagnostics;
using System.Text;

namespace AkkaLake.Tests.Support;

/// <summary>The real <c>akkalake</c> executable as a child process, for signals and kills.</summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DaemonProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static DaemonProcess Start(params string[] args) => Start(new Dictionary<string, string>(), args);

    public static DaemonProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "akkalake.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        return new DaemonProcess(Process.Start(start)!);
    }

    public int Pid => _process.Id;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString()]);
        kill.WaitForExit();
    }

    public bool HasExited => _process.HasExited;

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            throw new TimeoutException($"akkalake did not exit within {timeout}:{Environment.NewLine}{Output}");
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
                throw new TimeoutException($"akkalake never printed \"{text}\":{Environment.NewLine}{Output}");
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
