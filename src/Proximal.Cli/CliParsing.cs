using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Proximal.Cli;

/// <summary>
/// Command-line values the way users write them, and parse errors as one line without .NET type names.
/// Step counts accept <c>100000</c>, <c>1e5</c>, <c>2.5e5</c> and <c>1_000_000</c> (the spellings of hyperparameter files).
/// </summary>
internal static partial class CliParsing
{
    /// <summary>Exit code for a bad request (bad option, bad file, bad config value): nothing was changed.</summary>
    public const int ExitUsage = 2;

    /// <summary>Prints a bad request as one line on stderr ("error: …") and returns <see cref="ExitUsage"/>.</summary>
    public static int UsageError(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return ExitUsage;
    }

    /// <summary>
    /// A whole number written as digits (underscores allowed between them), or in exponent/decimal notation when its value
    /// is whole (<c>1e5</c>, <c>2.5e5</c>, <c>1000.0</c>).
    /// </summary>
    public static bool TryParseWholeNumber(string text, out long value)
    {
        value = 0;
        string t = text.Trim();
        if (t.Length == 0 || t.StartsWith('_') || t.EndsWith('_') || t.Contains("__", StringComparison.Ordinal)) return false;
        string digits = t.Replace("_", "");
        if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value)) return true;
        if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
            || !double.IsFinite(d) || Math.Floor(d) != d || Math.Abs(d) > 9e18) return false;
        value = (long)d;
        return true;
    }

    /// <summary>An option holding a number of environment steps (see <see cref="TryParseWholeNumber"/>).</summary>
    public static Option<long?> StepsOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result => ParseWhole(result, name, "a whole number of steps (e.g. 100000, 1e5 or 1_000_000)"),
    };

    /// <summary>An optional whole-number option (a seed, a count) with the same spellings.</summary>
    public static Option<long?> WholeOption(string name, string description, string what = "a whole number") => new(name)
    {
        Description = description,
        CustomParser = result => ParseWhole(result, name, what),
    };

    /// <summary>A whole-number option that fits an int (episodes, env copies).</summary>
    public static Option<int> IntOption(string name, string alias, string description, int defaultValue)
    {
        var option = alias.Length > 0 ? new Option<int>(name, alias) : new Option<int>(name);
        option.Description = description;
        option.DefaultValueFactory = _ => defaultValue;
        option.CustomParser = result =>
        {
            long? v = ParseWhole(result, name, "a whole number");
            if (v is null) return defaultValue;
            if (v is < int.MinValue or > int.MaxValue)
            {
                result.AddError($"{name}: {v} is too large.");
                return defaultValue;
            }
            return (int)v.Value;
        };
        return option;
    }

    private static long? ParseWhole(ArgumentResult result, string name, string what)
    {
        if (result.Tokens.Count == 0) return null;
        string text = result.Tokens[^1].Value;
        if (TryParseWholeNumber(text, out long v)) return v;
        result.AddError($"{name}: '{text}' is not {what}.");
        return null;
    }

    /// <summary>
    /// The first parse error as one line (System.CommandLine's own wording, with its .NET type names replaced) and a pointer
    /// to the command's help.
    /// </summary>
    public static string DescribeParseErrors(ParseResult parse)
    {
        string message = parse.Errors.Count > 0 ? parse.Errors[0].Message : "invalid command line.";
        var m = CannotParse().Match(message);
        if (m.Success)
        {
            string kind = m.Groups["type"].Value switch
            {
                var t when t.Contains("Int", StringComparison.Ordinal) => "a whole number",
                var t when t.Contains("Double", StringComparison.Ordinal) || t.Contains("Single", StringComparison.Ordinal) => "a number",
                var t when t.Contains("Boolean", StringComparison.Ordinal) => "true or false",
                _ => "a valid value",
            };
            message = $"{m.Groups["option"].Value}: '{m.Groups["value"].Value}' is not {kind}.";
        }
        message = message.Replace("\r", " ").Replace("\n", " ").Trim();
        string command = string.Join(' ', Path(parse.CommandResult));
        string help = command.Length == 0 ? "proximal --help" : $"proximal {command} --help";
        return $"error: {message} (see `{help}`)";
    }

    private static IEnumerable<string> Path(CommandResult? c)
    {
        var names = new List<string>();
        for (var r = c; r is not null; r = r.Parent as CommandResult)
            if (r.Parent is not null) names.Insert(0, r.Command.Name); // the root command has no parent; skip its name
        return names;
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for (option|argument) '(?<option>[^']*)' as expected type '(?<type>[^']*)'\.?$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();
}
