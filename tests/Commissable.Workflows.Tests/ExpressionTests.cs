namespace Commissable.Workflows.Tests;

public class ExpressionTests
{
    private readonly Harness _harness = new();

    [Theory]
    [InlineData("1 + 2 * 3", "7")]
    [InlineData("(1 + 2) * 3", "9")]
    [InlineData("2 - 3 - 4", "-5")]
    [InlineData("-2 * 3", "-6")]
    [InlineData("7 / 2", "3.5")]
    [InlineData("type(4 / 2)", "\"double\"")]
    [InlineData("type(4 * 2)", "\"int\"")]
    [InlineData("type(1 + 2.0)", "\"double\"")]
    [InlineData("7 // 2", "3")]
    [InlineData("-7 // 2", "-4")]
    [InlineData("7.5 // 2", "3")]
    [InlineData("type(7.5 // 2)", "\"double\"")]
    [InlineData("7 % 3", "1")]
    [InlineData("-7 % 3", "2")]
    [InlineData("\"ab\" + \"cd\"", "\"abcd\"")]
    [InlineData("1 < 2.5", "true")]
    [InlineData("\"apple\" < \"banana\"", "true")]
    [InlineData("1 == 1.0", "true")]
    [InlineData("[1, {\"a\": 2}] == [1, {\"a\": 2}]", "true")]
    [InlineData("1 != \"1\"", "true")]
    [InlineData("null == null", "true")]
    [InlineData("2 in [1, 2, 3]", "true")]
    [InlineData("\"k\" in {\"k\": 1}", "true")]
    [InlineData("\"x\" in {\"k\": 1}", "false")]
    [InlineData("true and false or true", "true")]
    [InlineData("false and (1 / 0 == 1)", "false")]
    [InlineData("true or (1 / 0 == 1)", "true")]
    [InlineData("not (1 == 1)", "false")]
    [InlineData("NOT false AND TRUE", "true")]
    [InlineData("1 + 2 == 3 and 2 * 2 >= 4", "true")]
    [InlineData("{\"a\": {\"b\": [10, 20]}}.a.b[1]", "20")]
    [InlineData("{\"a b\": 1}[\"a b\"]", "1")]
    [InlineData("'single' + \"\\n\"", "\"single\\n\"")]
    [InlineData("1.5e2", "150")]
    public async Task Operators_follow_Googles_precedence_and_typing(string expression, string expected)
    {
        Assert.Equal(expected, Harness.Json(await _harness.EvalAsync(expression)));
    }

    [Theory]
    [InlineData("1 / 0", "ZeroDivisionError")]
    [InlineData("1.5 / 0.0", "ZeroDivisionError")]
    [InlineData("5 // 0", "ZeroDivisionError")]
    [InlineData("5 % 0", "ZeroDivisionError")]
    [InlineData("\"count: \" + 1", "TypeError")]
    [InlineData("[1] + [2]", "TypeError")]
    [InlineData("1 and true", "TypeError")]
    [InlineData("1 < \"2\"", "TypeError")]
    [InlineData("not 1 == 2", "TypeError")]
    [InlineData("9223372036854775807 + 1", "ValueError")]
    [InlineData("{\"a\": 1}.b", "KeyError")]
    [InlineData("{\"a\": 1}[\"b\"]", "KeyError")]
    [InlineData("[1, 2][2]", "IndexError")]
    [InlineData("[1, 2][-1]", "IndexError")]
    [InlineData("undefined_variable", "KeyError")]
    [InlineData("null.a", "TypeError")]
    [InlineData("int(\"abc\")", "ValueError")]
    [InlineData("len(1)", "TypeError")]
    public async Task Bad_operations_raise_Googles_error_tags(string expression, string tag)
    {
        var failure = await _harness.FailAsync($"- r:\n    return: '${{{expression}}}'\n");

        Assert.Equal([tag], Harness.Tags(failure.Error));
    }

    [Theory]
    [InlineData("len(\"héllo\")", "5")]
    [InlineData("len([1, 2, 3])", "3")]
    [InlineData("len({\"a\": 1})", "1")]
    [InlineData("keys({\"b\": 1, \"a\": 2})", "[\"b\",\"a\"]")]
    [InlineData("int(\"42\")", "42")]
    [InlineData("int(2.7)", "2")]
    [InlineData("int(-2.7)", "-2")]
    [InlineData("double(\"2.5\")", "2.5")]
    [InlineData("double(2)", "2")]
    [InlineData("string(42)", "\"42\"")]
    [InlineData("string(1.5)", "\"1.5\"")]
    [InlineData("string(true)", "\"true\"")]
    [InlineData("default(null, \"fallback\")", "\"fallback\"")]
    [InlineData("default(0, \"fallback\")", "0")]
    [InlineData("type(null)", "\"null\"")]
    [InlineData("type([])", "\"list\"")]
    [InlineData("type({})", "\"map\"")]
    [InlineData("if(1 > 2, \"yes\", \"no\")", "\"no\"")]
    public async Task Expression_helpers_convert_and_measure(string expression, string expected)
    {
        Assert.Equal(expected, Harness.Json(await _harness.EvalAsync(expression)));
    }
}
