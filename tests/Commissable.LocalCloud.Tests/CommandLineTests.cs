using System.Diagnostics;

namespace Commissable.LocalCloud.Tests;

/// <summary>The local cloud's own command line: a bad argument is exit 2 naming it, before anything starts.</summary>
public sealed class CommandLineTests
{
    [Theory]
    [InlineData("--port abc --state /tmp/never", "'abc'")]
    [InlineData("--port 70000 --state /tmp/never", "--port must be 0 to 65535")]
    [InlineData("--state /tmp/never --address-prefix 10.0.0", "127.0.0.0/8")]
    [InlineData("--port 1", "'--state' is required")]
    [InlineData("--state /tmp/never --nope", "'--nope'")]
    public async Task A_bad_argument_is_exit_2_with_what_was_wrong_and_the_usage(string arguments, string expected)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Commissable.LocalCloud.dll"));
        foreach (var argument in arguments.Split(' ')) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(2, process.ExitCode);
        Assert.Contains(expected, await error, StringComparison.Ordinal);
        Assert.Contains("usage: Commissable.LocalCloud --state <DIR>", await error, StringComparison.Ordinal);
        Assert.False(Directory.Exists("/tmp/never"));
    }
}
