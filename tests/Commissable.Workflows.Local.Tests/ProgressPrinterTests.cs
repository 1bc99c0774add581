using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Commissable.Workflows.Local.Tests;

/// <summary>How a local run prints its steps and <c>sys.log</c> entries.</summary>
public sealed class ProgressPrinterTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 25, 3, 4, 5, 678, TimeSpan.Zero);

    [Fact]
    public void A_text_of_several_lines_is_one_entry_with_its_lines_indented_under_the_first()
    {
        using var output = new StringWriter();
        var printer = new ProgressPrinter(output, new FakeTimeProvider(At));

        printer.Logged("NOTICE", JsonValue.Create("APPROVAL NEEDED: prod-r1\ntable     restored\r\nActivity        25\n\n03:04:05.678Z  NOTICE approved by nobody\n"));
        printer.StepStarted("main/approval", 150);

        Assert.Equal(
            """
            03:04:05.678Z  NOTICE APPROVAL NEEDED: prod-r1
                                  table     restored
                                  Activity        25
                                  
                                  03:04:05.678Z  NOTICE approved by nobody
            03:04:05.678Z  step  main/approval (line 150)

            """.ReplaceLineEndings(Environment.NewLine),
            output.ToString());
    }

    [Fact]
    public void A_one_line_text_and_a_map_print_on_one_line()
    {
        using var output = new StringWriter();
        var printer = new ProgressPrinter(output, new FakeTimeProvider(At));

        printer.Logged("INFO", JsonValue.Create("restored"));
        printer.Logged("INFO", new JsonObject { ["rows"] = 25 });

        Assert.Equal(
            $"03:04:05.678Z  INFO   restored{Environment.NewLine}03:04:05.678Z  INFO   {{\"rows\":25}}{Environment.NewLine}",
            output.ToString());
    }
}
