using System.Text;
using System.Text.RegularExpressions;

namespace Proximal.Tests;

/// <summary>
/// The layer rule: a namespace may use its own layer and the layers below it, never one above.
/// The check reads the source text (no reflection: a type that is referenced but never instantiated still counts).
/// </summary>
public class ArchitectureTests
{
    /// <summary>
    /// The layers, bottom to top. A namespace belongs to the nearest listed entry that is it or a parent of it
    /// (Proximal.Common.Config → Proximal.Training; Proximal.Envs.Vector.X → Proximal.Envs.Vector).
    /// </summary>
    public static readonly string[] Layers =
    [
        "Proximal.Numerics",
        "Proximal.Text",
        "Proximal.Nn",
        "Proximal.Spaces",
        "Proximal.Distributions",
        "Proximal.Envs",
        "Proximal.Envs.Wrappers",
        "Proximal.Envs.ClassicControl",
        "Proximal.Envs.Games",          // two-player games (Connect Four), reference players, the batched-opponent contract
        "Proximal.Envs.Memory",         // tasks that need memory (RememberCue)
        "Proximal.Envs.Registry",       // ids → tasks (classic control built in, others registered), TimeLimit as gym.make applies it
        "Proximal.Envs.Vector",         // VecEnvs, vector wrappers, VecEnvBuilder.ForId (uses the registry)
        "Proximal.Common",              // config binding, persistence, callback and logging abstractions
        "Proximal.Algorithms",
        "Proximal.Algorithms.Policies",
        "Proximal.Algorithms.SelfPlay", // opponent pool, match play against references, Elo
        "Proximal.Algorithms.OnPolicy",
        "Proximal.Algorithms.OffPolicy",
        "Proximal.Algorithms.Registry",
        "Proximal.Training",
    ];

    [Fact]
    [Trait("Category", "Architecture")]
    public void NoNamespaceUnderSrcProximalUsesAHigherLayer()
    {
        string root = RepositoryRoot();
        string src = Path.Combine(root, "src", "Proximal");
        var files = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !IsBuildOutput(Path.GetRelativePath(src, f)))
            .Order(StringComparer.Ordinal)
            .Select(f => new LayerChecker.SourceFile(Path.GetRelativePath(root, f).Replace('\\', '/'), File.ReadAllText(f)))
            .ToList();
        Assert.True(files.Count > 50, $"found only {files.Count} source files under {src}");
        var violations = LayerChecker.Violations(Layers, files);
        Assert.True(violations.Count == 0,
            $"{violations.Count} layer violation(s) (layers bottom to top: {string.Join(" < ", Layers)}):\n" + string.Join("\n", violations));
    }

    private static bool IsBuildOutput(string relative)
    {
        string first = relative.Replace('\\', '/').Split('/')[0];
        return first is "bin" or "obj";
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Proximal.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Proximal.sln above {AppContext.BaseDirectory}.");
    }

    // ------------------------------------------------------------------ the checker on small inputs

    private static readonly string[] TinyLayers = ["Proximal.Low", "Proximal.Mid", "Proximal.Mid.Sub", "Proximal.High"];

    private static IReadOnlyList<string> Check(params (string Path, string Code)[] files) =>
        LayerChecker.Violations(TinyLayers, files.Select(f => new LayerChecker.SourceFile(f.Path, f.Code)).ToList());

    private const string LowType = "namespace Proximal.Low;\npublic class L { }\n";
    private const string MidType = "namespace Proximal.Mid;\npublic class M { }\n";
    private const string HighType = "namespace Proximal.High;\npublic class H { public static int X; }\n";

    [Fact]
    public void CheckerReportsALowerNamespaceUsingAHigherOne()
    {
        var v = Check(("low.cs", "using Proximal.High;\nnamespace Proximal.Low;\nclass A { H h; }\n"), ("high.cs", HighType));
        Assert.Equal(["low.cs: namespace Proximal.Low uses higher Proximal.High"], v);
    }

    [Fact]
    public void CheckerAllowsTheSameAndLowerLayers()
    {
        Assert.Empty(Check(
            ("high.cs", "using Proximal.Low;\nusing Proximal.Mid.Sub;\nnamespace Proximal.High;\nclass B { L l; }\n"),
            ("mid.cs", "using Proximal.Mid;\nnamespace Proximal.Mid.Sub.Deeper;\nclass C { }\n"),
            ("low.cs", LowType), ("mid2.cs", MidType)));
    }

    [Fact]
    public void CheckerMapsUnlistedSubNamespacesToTheirNearestListedParent()
    {
        // Proximal.Mid.Other is not listed: it is Proximal.Mid, below Proximal.Mid.Sub (listed, higher).
        var v = Check(
            ("other.cs", "using Proximal.Mid.Sub;\nnamespace Proximal.Mid.Other;\nclass D { }\n"),
            ("sub.cs", "namespace Proximal.Mid.Sub;\nclass S { }\n"),
            ("deep.cs", "using Proximal.Mid.Other;\nnamespace Proximal.Mid.Sub.Deep;\nclass E { }\n"));
        Assert.Equal(["other.cs: namespace Proximal.Mid.Other uses higher Proximal.Mid.Sub"], v);
    }

    [Fact]
    public void CheckerSeesUsingStaticAliasesAndQualifiedNamesInCode()
    {
        var v = Check(
            ("a.cs", "using static Proximal.High.H;\nnamespace Proximal.Low;\nclass A { }\n"),
            ("b.cs", "using HH = Proximal.High.H;\nnamespace Proximal.Low;\nclass B { }\n"),
            ("c.cs", "namespace Proximal.Low;\nclass C { int x = global::Proximal.High.H.X; }\n"),
            ("d.cs", "namespace Proximal.Low;\nclass D { int x = Proximal.High.H.X; }\n"),
            ("e.cs", "namespace Proximal.Low;\nclass E { int x = High.H.X; }\n"),          // relative to the enclosing Proximal
            ("f.cs", "namespace Proximal.Mid;\nclass F { Sub.S s; }\n"),                 // relative to Proximal.Mid itself
            ("high.cs", HighType), ("sub.cs", "namespace Proximal.Mid.Sub;\nclass S { }\n"));
        Assert.Equal(
        [
            "a.cs: namespace Proximal.Low uses higher Proximal.High",
            "b.cs: namespace Proximal.Low uses higher Proximal.High",
            "c.cs: namespace Proximal.Low uses higher Proximal.High",
            "d.cs: namespace Proximal.Low uses higher Proximal.High",
            "e.cs: namespace Proximal.Low uses higher Proximal.High",
            "f.cs: namespace Proximal.Mid uses higher Proximal.Mid.Sub",
        ], v);
    }

    [Fact]
    public void CheckerIgnoresCommentsStringsAndLookalikeMembers()
    {
        const string code = """"
            namespace Proximal.Low;
            // using Proximal.High;
            /* Proximal.High.H.X */
            /// <see cref="Proximal.High.H"/>
            class A
            {
                string a = "Proximal.High.H";
                string b = @"Proximal.High.""H""";
                string c = $"{1} Proximal.High.H";
                string d = $$"""{{1}} Proximal.High.H """;
                char e = '"';
                object High = null;                 // a member named like the namespace,
                int f => High.GetHashCode();        // followed by something that is not one of its types
                string g = "\"Proximal.High\"";
            }
            """";
        Assert.Empty(Check(("a.cs", code), ("high.cs", HighType)));
        // The same file with one real use still reports it: stripping did not swallow the code after the literals.
        Assert.Single(Check(("a.cs", code.Replace("class A\n{", "class A\n{\n    int z = Proximal.High.H.X;")), ("high.cs", HighType)));
    }

    [Fact]
    public void CheckerReportsNamespacesMissingFromTheTable()
    {
        var v = Check(
            ("x.cs", "namespace Proximal.Elsewhere;\nclass X { }\n"),
            ("y.cs", "using Proximal.Elsewhere;\nnamespace Proximal.High;\nclass Y { }\n"));
        Assert.Equal(
        [
            "x.cs: namespace Proximal.Elsewhere is not in the layer table",
            "y.cs: namespace Proximal.High uses Proximal.Elsewhere, which is not in the layer table",
        ], v);
    }

    [Fact]
    public void TheLayerTableHasNoDuplicates() => Assert.Equal(Layers.Length, Layers.Distinct().Count());
}

/// <summary>
/// Reads C# source text: each file's namespace, and the Proximal namespaces it refers to through using directives
/// (plain, static, aliased), fully qualified names and names qualified relative to an enclosing namespace; comments,
/// strings and character literals are blanked out first.
/// </summary>
internal static class LayerChecker
{
    public sealed record SourceFile(string Path, string Code);

    private static readonly Regex NamespaceDeclaration = new(@"\bnamespace\s+([A-Za-z_][\w.]*)", RegexOptions.Compiled);
    private static readonly Regex TypeDeclaration = new(@"\b(?:record\s+(?:class|struct)|class|struct|interface|enum|record)\s+([A-Za-z_]\w*)", RegexOptions.Compiled);
    private static readonly Regex UsingDirective = new(@"\busing\s+(?:static\s+)?(?:[A-Za-z_]\w*\s*=\s*)?(?:global::)?(Proximal(?:\s*\.\s*[A-Za-z_]\w*)*)\s*[;<]", RegexOptions.Compiled);
    private static readonly Regex QualifiedName = new(@"(?<![\w.])(?:global::)?(Proximal(?:\.[A-Za-z_]\w*)+)", RegexOptions.Compiled);

    public static IReadOnlyList<string> Violations(IReadOnlyList<string> layers, IReadOnlyList<SourceFile> files)
    {
        var parsed = files.Select(f =>
        {
            string code = StripCommentsAndStrings(f.Code);
            string? ns = NamespaceDeclaration.Match(code) is { Success: true } m ? m.Groups[1].Value : null;
            return (f.Path, Code: code, Namespace: ns);
        }).ToList();

        // Every namespace the inputs declare (or the table names), with the types declared in it.
        var types = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (string layer in layers) types.TryAdd(layer, []);
        foreach (var f in parsed)
        {
            if (f.Namespace is null) continue;
            if (!types.TryGetValue(f.Namespace, out var set)) types[f.Namespace] = set = [];
            foreach (Match m in TypeDeclaration.Matches(f.Code)) set.Add(m.Groups[1].Value);
        }

        var violations = new List<string>();
        foreach (var f in parsed)
        {
            if (f.Namespace is null || !f.Namespace.StartsWith("Proximal", StringComparison.Ordinal)) continue;
            int own = LayerOf(layers, f.Namespace);
            if (own < 0)
            {
                violations.Add($"{f.Path}: namespace {f.Namespace} is not in the layer table");
                continue;
            }
            foreach (string used in References(f.Code, f.Namespace, types).Order(StringComparer.Ordinal))
            {
                int layer = LayerOf(layers, used);
                if (layer < 0) violations.Add($"{f.Path}: namespace {f.Namespace} uses {used}, which is not in the layer table");
                else if (layer > own) violations.Add($"{f.Path}: namespace {f.Namespace} uses higher {used}");
            }
        }
        return violations;
    }

    /// <summary>Index of the nearest listed entry that is <paramref name="ns"/> or a parent of it; −1 if none.</summary>
    public static int LayerOf(IReadOnlyList<string> layers, string ns)
    {
        for (string? n = ns; n is not null; n = n.LastIndexOf('.') is var dot and > 0 ? n[..dot] : null)
            for (int i = 0; i < layers.Count; i++)
                if (layers[i] == n) return i;
        return -1;
    }

    private static HashSet<string> References(string code, string ownNamespace, Dictionary<string, HashSet<string>> types)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        void Add(string name)
        {
            // The longest known namespace that prefixes the name (a using static or a qualified type names the type too).
            string? best = null;
            foreach (string ns in types.Keys)
                if ((name == ns || name.StartsWith(ns + ".", StringComparison.Ordinal)) && (best is null || ns.Length > best.Length)) best = ns;
            if (best is not null && best != ownNamespace) found.Add(best);
        }
        foreach (Match m in UsingDirective.Matches(code)) Add(Regex.Replace(m.Groups[1].Value, @"\s+", ""));
        foreach (Match m in QualifiedName.Matches(code)) Add(m.Groups[1].Value);

        // Names qualified relative to an enclosing namespace (inside namespace Proximal.X, "Text.EditDistance" is
        // Proximal.Text.EditDistance): counted when what follows is a type that namespace declares, so a member that
        // merely shares a namespace's name is not mistaken for it.
        for (string? enclosing = ownNamespace; enclosing is not null; enclosing = enclosing.LastIndexOf('.') is var dot and > 0 ? enclosing[..dot] : null)
        {
            foreach (var (ns, declared) in types)
            {
                if (!ns.StartsWith(enclosing + ".", StringComparison.Ordinal) || declared.Count == 0) continue;
                string relative = ns[(enclosing.Length + 1)..];
                foreach (Match m in Regex.Matches(code, @"(?<![\w.])" + Regex.Escape(relative) + @"\s*\.\s*([A-Za-z_]\w*)"))
                    if (declared.Contains(m.Groups[1].Value)) Add(ns);
            }
        }
        return found;
    }

    /// <summary>The code with comments and the contents of string and character literals replaced by spaces
    /// (line breaks kept). Interpolation holes are blanked with their string.</summary>
    public static string StripCommentsAndStrings(string code)
    {
        var sb = new StringBuilder(code.Length);
        int i = 0, n = code.Length;
        void Blank(int end)
        {
            for (; i < end && i < n; i++) sb.Append(code[i] == '\n' ? '\n' : ' ');
        }
        while (i < n)
        {
            char c = code[i];
            if (c == '/' && i + 1 < n && code[i + 1] == '/')
            {
                int end = code.IndexOf('\n', i);
                Blank(end < 0 ? n : end);
            }
            else if (c == '/' && i + 1 < n && code[i + 1] == '*')
            {
                int end = code.IndexOf("*/", i + 2, StringComparison.Ordinal);
                Blank(end < 0 ? n : end + 2);
            }
            else if (c == '\'')
            {
                int j = i + 1;
                while (j < n && code[j] != '\'' && code[j] != '\n') j += code[j] == '\\' ? 2 : 1;
                Blank(Math.Min(j + 1, n));
            }
            else if (c is '"' or '$' or '@' && StringStart(code, i) is { } literal)
            {
                var (quoteAt, verbatim) = literal;
                int quotes = 0;
                while (quoteAt + quotes < n && code[quoteAt + quotes] == '"') quotes++;
                int j;
                if (quotes >= 3) // raw string literal: ends at the same run of quotes
                {
                    string fence = new('"', quotes);
                    int end = code.IndexOf(fence, quoteAt + quotes, StringComparison.Ordinal);
                    j = end < 0 ? n : end + quotes;
                }
                else if (verbatim)
                {
                    j = quoteAt + 1;
                    while (j < n && !(code[j] == '"' && (j + 1 >= n || code[j + 1] != '"'))) j += code[j] == '"' ? 2 : 1;
                    j++;
                }
                else
                {
                    j = quoteAt + 1;
                    while (j < n && code[j] != '"' && code[j] != '\n') j += code[j] == '\\' ? 2 : 1;
                    j++;
                }
                Blank(Math.Min(j, n));
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    /// <summary>If a string literal starts at <paramref name="i"/> (with any $ / @ prefix), where its first quote is
    /// and whether it is verbatim.</summary>
    private static (int QuoteAt, bool Verbatim)? StringStart(string code, int i)
    {
        if (i > 0 && (char.IsLetterOrDigit(code[i - 1]) || code[i - 1] == '_') && code[i] != '"') return null;
        int j = i;
        bool verbatim = false;
        while (j < code.Length && code[j] is '$' or '@')
        {
            if (code[j] == '@') verbatim = true;
            j++;
        }
        if (j >= code.Length || code[j] != '"') return null;
        return (j, verbatim);
    }
}
