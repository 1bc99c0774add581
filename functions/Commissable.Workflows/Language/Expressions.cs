using System.Globalization;
using System.Text;

namespace Commissable.Workflows.Language;

/// <summary>An expression inside <c>${...}</c>.</summary>
internal abstract record Expr;

internal sealed record LiteralExpr(object? Value) : Expr;

internal sealed record VariableExpr(string Name) : Expr;

internal sealed record MemberExpr(Expr Target, string Name) : Expr;

internal sealed record IndexExpr(Expr Target, Expr Key) : Expr;

internal sealed record CallExpr(string Function, IReadOnlyList<Expr> Args) : Expr;

internal sealed record UnaryExpr(string Op, Expr Operand) : Expr;

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right) : Expr;

internal sealed record ListExpr(IReadOnlyList<Expr> Items) : Expr;

internal sealed record MapExpr(IReadOnlyList<(string Key, Expr Value)> Entries) : Expr;

internal sealed class ExpressionSyntaxException(string message) : Exception(message);

/// <summary>
/// Parses the Workflows expression language. Precedence follows Google's table, tightest first:
/// <c>. []</c>, <c>not</c>, unary <c>-</c>, <c>* / // %</c>, <c>+ -</c>, comparisons and <c>in</c>,
/// <c>and</c>, <c>or</c>. Note that <c>not</c> binds tighter than comparisons, as documented.
/// </summary>
internal sealed class ExpressionParser
{
    private enum Kind { Number, String, Identifier, Operator, End }

    private readonly record struct Token(Kind Kind, string Text, object? Value);

    private readonly List<Token> _tokens;
    private int _position;

    private ExpressionParser(List<Token> tokens) => _tokens = tokens;

    public static Expr Parse(string text)
    {
        var parser = new ExpressionParser(Lex(text));
        var expr = parser.ParseOr();
        if (parser.Peek.Kind != Kind.End)
        {
            throw new ExpressionSyntaxException($"unexpected '{parser.Peek.Text}' in expression");
        }

        return expr;
    }

    /// <summary>The dotted name an expression spells (<c>a.b.c</c>), or null when it is not a plain name chain.</summary>
    public static string? DottedName(Expr expr) => expr switch
    {
        VariableExpr v => v.Name,
        MemberExpr m when DottedName(m.Target) is { } prefix => prefix + "." + m.Name,
        _ => null,
    };

    private Token Peek => _tokens[_position];

    private Token Take() => _tokens[_position++];

    private bool IsOperator(string op) => Peek.Kind == Kind.Operator && Peek.Text == op;

    private bool TakeOperator(string op)
    {
        if (IsOperator(op))
        {
            _position++;
            return true;
        }

        return false;
    }

    private void Expect(string op)
    {
        if (!TakeOperator(op))
        {
            throw new ExpressionSyntaxException(Peek.Kind == Kind.End ? $"expected '{op}' before the end of the expression" : $"expected '{op}' but found '{Peek.Text}'");
        }
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (TakeOperator("or"))
        {
            left = new BinaryExpr("or", left, ParseAnd());
        }

        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseComparison();
        while (TakeOperator("and"))
        {
            left = new BinaryExpr("and", left, ParseComparison());
        }

        return left;
    }

    private static readonly string[] ComparisonOperators = ["==", "!=", "<", "<=", ">", ">=", "in"];

    private Expr ParseComparison()
    {
        var left = ParseAdditive();
        while (Peek.Kind == Kind.Operator && ComparisonOperators.Contains(Peek.Text))
        {
            var op = Take().Text;
            left = new BinaryExpr(op, left, ParseAdditive());
        }

        return left;
    }

    private Expr ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (IsOperator("+") || IsOperator("-"))
        {
            var op = Take().Text;
            left = new BinaryExpr(op, left, ParseMultiplicative());
        }

        return left;
    }

    private Expr ParseMultiplicative()
    {
        var left = ParseUnary();
        while (IsOperator("*") || IsOperator("/") || IsOperator("//") || IsOperator("%"))
        {
            var op = Take().Text;
            left = new BinaryExpr(op, left, ParseUnary());
        }

        return left;
    }

    private Expr ParseUnary()
    {
        if (TakeOperator("not"))
        {
            return new UnaryExpr("not", ParseUnary());
        }

        if (TakeOperator("-"))
        {
            return new UnaryExpr("-", ParseUnary());
        }

        return ParsePostfix();
    }

    private Expr ParsePostfix()
    {
        var expr = ParsePrimary();
        while (true)
        {
            if (TakeOperator("."))
            {
                var name = Take();
                if (name.Kind != Kind.Identifier)
                {
                    throw new ExpressionSyntaxException($"expected a key name after '.' but found '{name.Text}'");
                }

                expr = new MemberExpr(expr, name.Text);
            }
            else if (TakeOperator("["))
            {
                var key = ParseOr();
                Expect("]");
                expr = new IndexExpr(expr, key);
            }
            else if (IsOperator("("))
            {
                var function = DottedName(expr) ?? throw new ExpressionSyntaxException("only named functions can be called");
                _position++;
                var args = new List<Expr>();
                if (!TakeOperator(")"))
                {
                    do
                    {
                        args.Add(ParseOr());
                    }
                    while (TakeOperator(","));
                    Expect(")");
                }

                expr = new CallExpr(function, args);
            }
            else
            {
                return expr;
            }
        }
    }

    private Expr ParsePrimary()
    {
        var token = Take();
        switch (token.Kind)
        {
            case Kind.Number:
            case Kind.String:
                return new LiteralExpr(token.Value);
            case Kind.Identifier:
                return token.Text switch
                {
                    "true" or "True" or "TRUE" => new LiteralExpr(true),
                    "false" or "False" or "FALSE" => new LiteralExpr(false),
                    "null" or "Null" or "NULL" => new LiteralExpr(null),
                    _ => new VariableExpr(token.Text),
                };
            case Kind.Operator when token.Text == "(":
                var inner = ParseOr();
                Expect(")");
                return inner;
            case Kind.Operator when token.Text == "[":
                var items = new List<Expr>();
                if (!TakeOperator("]"))
                {
                    do
                    {
                        items.Add(ParseOr());
                    }
                    while (TakeOperator(","));
                    Expect("]");
                }

                return new ListExpr(items);
            case Kind.Operator when token.Text == "{":
                var entries = new List<(string, Expr)>();
                if (!TakeOperator("}"))
                {
                    do
                    {
                        var key = Take();
                        if (key.Kind != Kind.String)
                        {
                            throw new ExpressionSyntaxException($"map keys in expressions must be strings, found '{key.Text}'");
                        }

                        Expect(":");
                        entries.Add(((string)key.Value!, ParseOr()));
                    }
                    while (TakeOperator(","));
                    Expect("}");
                }

                return new MapExpr(entries);
            case Kind.End:
                throw new ExpressionSyntaxException("the expression ends too early");
            default:
                throw new ExpressionSyntaxException($"unexpected '{token.Text}' in expression");
        }
    }

    private static readonly string[] Operators = ["//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "<", ">", "(", ")", "[", "]", "{", "}", ",", ".", ":"];

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < text.Length && char.IsAsciiDigit(text[i]))
                {
                    i++;
                }

                var isDouble = false;
                if (i + 1 < text.Length && text[i] == '.' && char.IsAsciiDigit(text[i + 1]))
                {
                    isDouble = true;
                    i++;
                    while (i < text.Length && char.IsAsciiDigit(text[i]))
                    {
                        i++;
                    }
                }

                if (i < text.Length && (text[i] == 'e' || text[i] == 'E'))
                {
                    var j = i + 1;
                    if (j < text.Length && (text[j] == '+' || text[j] == '-'))
                    {
                        j++;
                    }

                    if (j < text.Length && char.IsAsciiDigit(text[j]))
                    {
                        isDouble = true;
                        i = j;
                        while (i < text.Length && char.IsAsciiDigit(text[i]))
                        {
                            i++;
                        }
                    }
                }

                var literal = text[start..i];
                if (isDouble)
                {
                    tokens.Add(new Token(Kind.Number, literal, double.Parse(literal, CultureInfo.InvariantCulture)));
                }
                else if (long.TryParse(literal, NumberStyles.None, CultureInfo.InvariantCulture, out var integer))
                {
                    tokens.Add(new Token(Kind.Number, literal, integer));
                }
                else
                {
                    throw new ExpressionSyntaxException($"integer literal {literal} does not fit in 64 bits");
                }
            }
            else if (c == '"' || c == '\'')
            {
                var (value, end) = LexString(text, i);
                tokens.Add(new Token(Kind.String, text[i..end], value));
                i = end;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                var word = text[start..i];
                var keyword = word switch
                {
                    "and" or "AND" => "and",
                    "or" or "OR" => "or",
                    "not" or "NOT" => "not",
                    "in" or "IN" => "in",
                    _ => null,
                };
                tokens.Add(keyword is null ? new Token(Kind.Identifier, word, null) : new Token(Kind.Operator, keyword, null));
            }
            else
            {
                var op = Operators.FirstOrDefault(o => string.CompareOrdinal(text, i, o, 0, o.Length) == 0)
                    ?? throw new ExpressionSyntaxException($"unexpected character '{c}' in expression");
                tokens.Add(new Token(Kind.Operator, op, null));
                i += op.Length;
            }
        }

        tokens.Add(new Token(Kind.End, "end of expression", null));
        return tokens;
    }

    private static (string Value, int End) LexString(string text, int start)
    {
        var quote = text[start];
        var builder = new StringBuilder();
        var i = start + 1;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == quote)
            {
                return (builder.ToString(), i + 1);
            }

            if (c == '\\' && i + 1 < text.Length)
            {
                var escaped = text[i + 1];
                i += 2;
                switch (escaped)
                {
                    case 'n': builder.Append('\n'); break;
                    case 't': builder.Append('\t'); break;
                    case 'r': builder.Append('\r'); break;
                    case 'b': builder.Append('\b'); break;
                    case 'f': builder.Append('\f'); break;
                    case 'u' when i + 4 <= text.Length && int.TryParse(text.AsSpan(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                        builder.Append((char)code);
                        i += 4;
                        break;
                    default: builder.Append(escaped); break;
                }

                continue;
            }

            builder.Append(c);
            i++;
        }

        throw new ExpressionSyntaxException("a string literal is not closed");
    }
}
