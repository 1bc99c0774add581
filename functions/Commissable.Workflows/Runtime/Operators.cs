namespace Commissable.Workflows.Runtime;

/// <summary>
/// The operators, with Google's typing: int op int stays int (overflow is an error), a double on
/// either side makes a double, <c>/</c> always gives a double, <c>+</c> concatenates two strings only,
/// dividing by zero raises <c>ZeroDivisionError</c>.
/// </summary>
internal static class Operators
{
    public static object? Unary(string op, object? operand) => (op, operand) switch
    {
        ("-", long l) when l != long.MinValue => -l,
        ("-", long) => throw WorkflowErrors.ValueError("integer overflow"),
        ("-", double d) => -d,
        ("not", bool b) => !b,
        _ => throw WorkflowErrors.TypeError($"unsupported operand type for {op}: '{Values.TypeName(operand)}'"),
    };

    public static object? Binary(string op, object? left, object? right) => op switch
    {
        "==" => Values.Equals(left, right),
        "!=" => !Values.Equals(left, right),
        "<" or "<=" or ">" or ">=" => Compare(op, left, right),
        "in" => In(left, right),
        "+" when left is string a && right is string b => a + b,
        "+" or "-" or "*" => Arithmetic(op, left, right),
        "/" => Divide(left, right),
        "//" => FloorDivide(left, right),
        "%" => Remainder(left, right),
        _ => throw new InvalidOperationException($"unknown operator {op}"),
    };

    private static WorkflowRaisedException Unsupported(string op, object? left, object? right) =>
        WorkflowErrors.TypeError($"unsupported operand types for {op}: '{Values.TypeName(left)}' and '{Values.TypeName(right)}'");

    private static object Arithmetic(string op, object? left, object? right)
    {
        if (left is long a && right is long b)
        {
            try
            {
                return op switch
                {
                    "+" => checked(a + b),
                    "-" => checked(a - b),
                    _ => checked(a * b),
                };
            }
            catch (OverflowException)
            {
                throw WorkflowErrors.ValueError($"integer overflow in {a} {op} {b}");
            }
        }

        if (Values.IsNumber(left) && Values.IsNumber(right))
        {
            var x = Values.ToDouble(left);
            var y = Values.ToDouble(right);
            var result = op switch
            {
                "+" => x + y,
                "-" => x - y,
                _ => x * y,
            };
            return double.IsFinite(result) ? result : throw WorkflowErrors.ValueError($"double overflow in {op}");
        }

        throw Unsupported(op, left, right);
    }

    private static (double X, double Y) Numbers(string op, object? left, object? right)
    {
        if (!Values.IsNumber(left) || !Values.IsNumber(right))
        {
            throw Unsupported(op, left, right);
        }

        if (Values.ToDouble(right) == 0)
        {
            throw WorkflowErrors.ZeroDivisionError(op == "%" ? "modulo by zero" : "division by zero");
        }

        return (Values.ToDouble(left), Values.ToDouble(right));
    }

    private static object Divide(object? left, object? right)
    {
        var (x, y) = Numbers("/", left, right);
        return x / y;
    }

    private static object FloorDivide(object? left, object? right)
    {
        var (x, y) = Numbers("//", left, right);
        if (left is long a && right is long b)
        {
            if (a == long.MinValue && b == -1)
            {
                throw WorkflowErrors.ValueError("integer overflow in //");
            }

            var quotient = a / b;
            return (a % b != 0) && ((a < 0) != (b < 0)) ? quotient - 1 : quotient;
        }

        return Math.Floor(x / y);
    }

    private static object Remainder(object? left, object? right)
    {
        var (x, y) = Numbers("%", left, right);
        if (left is long a && right is long b)
        {
            if (b == -1)
            {
                return 0L;
            }

            var remainder = a % b;
            return remainder != 0 && ((remainder < 0) != (b < 0)) ? remainder + b : remainder;
        }

        var r = x - (y * Math.Floor(x / y));
        return r;
    }

    private static bool Compare(string op, object? left, object? right)
    {
        int order;
        if (left is long a && right is long b)
        {
            order = a.CompareTo(b);
        }
        else if (Values.IsNumber(left) && Values.IsNumber(right))
        {
            order = Values.ToDouble(left).CompareTo(Values.ToDouble(right));
        }
        else if (left is string s && right is string t)
        {
            order = string.CompareOrdinal(s, t);
        }
        else
        {
            throw Unsupported(op, left, right);
        }

        return op switch
        {
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            _ => order >= 0,
        };
    }

    private static bool In(object? item, object? container) => container switch
    {
        List<object?> list => list.Any(element => Values.Equals(item, element)),
        OrderedDictionary<string, object?> map when item is string key => map.ContainsKey(key),
        OrderedDictionary<string, object?> => throw WorkflowErrors.TypeError($"map keys are strings; 'in' got a '{Values.TypeName(item)}'"),
        _ => throw WorkflowErrors.TypeError($"'in' needs a list or a map on its right, got '{Values.TypeName(container)}'"),
    };
}
