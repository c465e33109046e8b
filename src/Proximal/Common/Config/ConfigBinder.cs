using System.Collections.Concurrent;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Proximal.Common.Config;

/// <summary>
/// Binds a YAML hyperparameter file plus <c>--set key=value</c> overrides onto an options object.
/// <list type="bullet">
/// <item>Keys are snake_case property names (<c>learning_rate</c> → <c>LearningRate</c>, or <see cref="ConfigKeyAttribute"/>).</item>
/// <item>A nested options object is a YAML mapping (<c>policy: {hidden_sizes: [64, 64]}</c>) or a dotted key
///       (<c>--set policy.hidden_sizes=[64,64]</c>).</item>
/// <item>Types: int, long, float, double, bool, string, enums (snake_case member names), arrays of those (not bool),
///       their nullable forms (<c>null</c> or <c>~</c>), nested options classes, and <c>Dictionary&lt;string, double&gt;</c>
///       (named numbers such as env keyword options: a YAML mapping <c>env_kwargs: {use_contact_forces: true}</c> or
///       <c>--set env_kwargs.use_contact_forces=true</c>; true/false count as 1/0; a mapping updates the entries it
///       names, <c>null</c> empties it).</item>
/// <item>Overrides are applied after the file, in order; later ones win.</item>
/// <item>Every set value is checked against the property's <see cref="ConfigCheckAttribute"/>s.</item>
/// </list>
/// Every problem is a <see cref="ConfigException"/> whose message names where (file:line:column or the --set
/// text), the key, the value and what was expected; an unknown key lists the nearest valid keys.
/// </summary>
public static class ConfigBinder
{
    /// <summary>
    /// New <typeparamref name="T"/> (property defaults), then the YAML file at <paramref name="yamlPath"/> (if not null),
    /// then <paramref name="overrides"/> (<c>key=value</c>), then <see cref="Validate"/>.
    /// </summary>
    /// <param name="section">When given, bind the mapping under this top-level key (e.g. an env id) instead of the whole file.</param>
    public static T Load<T>(string? yamlPath, IEnumerable<string>? overrides = null, string? section = null) where T : class, new()
    {
        var options = new T();
        if (yamlPath is not null)
        {
            if (!File.Exists(yamlPath)) throw new ConfigException($"Config file '{yamlPath}' does not exist.", source: yamlPath);
            string text;
            try { text = File.ReadAllText(yamlPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            { throw new ConfigException($"Config file '{yamlPath}' cannot be read: {e.Message}", source: yamlPath, inner: e); }
            ApplyYaml(options, text, yamlPath, section);
        }
        ApplyOverrides(options, overrides);
        Validate(options);
        return options;
    }

    /// <summary>As <see cref="Load{T}"/> from YAML text; <paramref name="sourceName"/> is used in error messages.</summary>
    public static T Parse<T>(string yamlText, string sourceName = "<yaml>", IEnumerable<string>? overrides = null, string? section = null)
        where T : class, new()
    {
        var options = new T();
        ApplyYaml(options, yamlText, sourceName, section);
        ApplyOverrides(options, overrides);
        Validate(options);
        return options;
    }

    /// <summary>Binds YAML text onto an existing options object (its current values are the defaults).</summary>
    public static void ApplyYaml(object target, string yamlText, string sourceName = "<yaml>", string? section = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(yamlText);
        var root = LoadRoot(yamlText, sourceName);
        if (root is null)
        {
            if (section is not null) throw new ConfigException($"{sourceName}: the file is empty, so it has no section '{section}'.", source: sourceName);
            return;
        }
        if (section is not null)
        {
            var sections = root.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value ?? "").ToList();
            if (!root.Children.TryGetValue(new YamlScalarNode(section), out var node))
                throw new ConfigException(
                    $"{sourceName}: no section '{section}' (sections: {string.Join(", ", sections)}).", source: sourceName);
            if (node is not YamlMappingNode sectionMap)
                throw new ConfigException($"{At(sourceName, node)}: section '{section}' must be a mapping of key: value.",
                    source: sourceName, line: Line(node));
            root = sectionMap;
        }
        ApplyMapping(target, OptionsModel.For(target.GetType()), root, sourceName, prefix: "", fromOverride: false);
    }

    /// <summary>Binds a YamlDotNet mapping onto an existing options object.</summary>
    public static void ApplyMapping(object target, YamlMappingNode mapping, string sourceName = "<yaml>")
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(mapping);
        ApplyMapping(target, OptionsModel.For(target.GetType()), mapping, sourceName, prefix: "", fromOverride: false);
    }

    /// <summary>Applies <c>key=value</c> overrides in order. A dotted key reaches into nested options.</summary>
    public static void ApplyOverrides(object target, IEnumerable<string>? overrides)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (overrides is null) return;
        foreach (var o in overrides) ApplyOverride(target, o);
    }

    /// <summary>
    /// Applies one <c>key=value</c> override. The value is read like a YAML scalar (<c>3e-4</c>, <c>true</c>, <c>tanh</c>,
    /// <c>null</c>); a list is <c>[64,64]</c> or <c>64,64</c>; a nested object may be given as <c>{a: 1, b: 2}</c>.
    /// </summary>
    public static void ApplyOverride(object target, string assignment)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(assignment);
        string where = $"--set {assignment}";
        int eq = assignment.IndexOf('=');
        if (eq <= 0) throw new ConfigException($"{where}: expected key=value (for example learning_rate=3e-4).", source: where);
        string dotted = assignment[..eq].Trim();
        string raw = assignment[(eq + 1)..];

        object current = target;
        var model = OptionsModel.For(target.GetType());
        string[] parts = dotted.Split('.');
        string prefix = "";
        for (int i = 0; i < parts.Length; i++)
        {
            var prop = FindProperty(model, parts[i], prefix, where, null);
            string key = prefix + prop.Key;
            if (i < parts.Length - 1 && prop.Kind == OptionKind.Map)
            {
                // env_kwargs.use_contact_forces=true: the rest of the dotted key names one entry.
                string entry = string.Join('.', parts[(i + 1)..]);
                if (entry.Trim().Length == 0)
                    throw new ConfigException($"{where}: key '{key}' needs an entry name after the dot (e.g. {key}.name=1).", key, where);
                var dict = GetOrCreateMap(current, prop, key, where, null);
                dict[entry.Trim()] = ConvertMapValue(new YamlScalarNode(raw.Trim()), where, $"{key}.{entry.Trim()}", where, null);
                return;
            }
            if (i < parts.Length - 1)
            {
                if (prop.Kind != OptionKind.Nested)
                    throw new ConfigException($"{where}: key '{key}' is not a group of options, so '{dotted}' does not exist.", key, where);
                current = GetOrCreateNested(current, prop, key, where, null);
                model = prop.NestedModel;
                prefix = key + ".";
                continue;
            }
            YamlNode node = ParseOverrideValue(raw, prop, where, key);
            if (prop.Kind == OptionKind.Nested && node is YamlMappingNode map)
            {
                // Same as in a file: a mapping updates the nested options, keeping the keys it does not mention.
                ApplyMapping(GetOrCreateNested(current, prop, key, where, null), prop.NestedModel, map, where, key + ".", fromOverride: true);
                return;
            }
            if (prop.Kind == OptionKind.Map && node is YamlMappingNode entries)
            {
                MergeMap(current, prop, entries, where, key, fromOverride: true);
                return;
            }
            Assign(current, prop, node, where, key, isOverride: true);
        }
    }

    /// <summary>
    /// Checks every numeric option (recursively) against its checks, e.g. after building options in code.
    /// Throws <see cref="ConfigException"/> naming the first offending key.
    /// </summary>
    public static void Validate(object options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options, OptionsModel.For(options.GetType()), "", depth: 0);
    }

    /// <summary>All dotted keys an options type accepts (nested keys as <c>policy.hidden_sizes</c>), in declaration order.</summary>
    public static IReadOnlyList<string> KeysOf(Type optionsType)
    {
        var keys = new List<string>();
        CollectKeys(OptionsModel.For(optionsType), "", keys, depth: 0);
        return keys;
    }

    /// <summary>The snake_case key a property or enum member name maps to (LearningRate → learning_rate).</summary>
    public static string ToSnakeCase(string name) => OptionsModel.ToSnakeCase(name);

    // ------------------------------------------------------------------------------------------------

    private static void CollectKeys(OptionsModel model, string prefix, List<string> keys, int depth)
    {
        foreach (var p in model.Properties)
        {
            if (p.Kind == OptionKind.Nested && depth < 8) CollectKeys(p.NestedModel, prefix + p.Key + ".", keys, depth + 1);
            else keys.Add(prefix + p.Key);
        }
    }

    private static YamlMappingNode? LoadRoot(string text, string source)
    {
        var stream = new YamlStream();
        try { stream.Load(new StringReader(text)); }
        catch (YamlException e)
        {
            string reason = e.InnerException is not null && e.Message.Contains("Duplicate key", StringComparison.OrdinalIgnoreCase) ? e.InnerException.Message : e.Message;
            int line = (int)e.Start.Line;
            throw new ConfigException($"{source}:{line}:{e.Start.Column}: invalid YAML: {StripMark(reason)}", source: source, line: line, inner: e);
        }
        catch (ArgumentException e) // YamlDotNet reports a duplicate mapping key this way
        {
            throw new ConfigException($"{source}: invalid YAML: {e.Message}", source: source, inner: e);
        }
        catch (Exception e) when (e is not ConfigException)
        {
            // YamlDotNet 16 fails on some malformed input (e.g. "n_steps: [32" followed by another key) with an
            // InvalidOperationException that carries no position: find it by scanning the tokens ourselves.
            throw MalformedYaml(text, source, e);
        }
        if (stream.Documents.Count == 0) return null;
        if (stream.Documents.Count > 1)
            throw new ConfigException($"{At(source, stream.Documents[1].RootNode)}: the file holds {stream.Documents.Count} YAML documents; expected one.",
                source: source, line: Line(stream.Documents[1].RootNode));
        var rootNode = stream.Documents[0].RootNode;
        if (IsNull(rootNode)) return null;
        if (rootNode is not YamlMappingNode map)
            throw new ConfigException($"{At(source, rootNode)}: the top level must be a mapping of key: value.", source: source, line: Line(rootNode));
        return map;
    }

    /// <summary>
    /// A positioned message for YAML the parser rejected without saying where: an unclosed '[' / '{' (named with the
    /// key it belongs to and the line it opens on), else the last place the scanner read successfully.
    /// </summary>
    private static ConfigException MalformedYaml(string text, string source, Exception inner)
    {
        var open = new Stack<(YamlDotNet.Core.Tokens.Token Token, string? Key)>();
        YamlDotNet.Core.Tokens.Token? last = null;
        string? lastKey = null;
        bool keyNext = false;
        try
        {
            var scanner = new Scanner(new StringReader(text));
            while (scanner.MoveNext())
            {
                var token = scanner.Current!;
                last = token;
                switch (token)
                {
                    case YamlDotNet.Core.Tokens.Key: keyNext = true; break;
                    case YamlDotNet.Core.Tokens.Scalar sc when keyNext: lastKey = sc.Value; keyNext = false; break;
                    case YamlDotNet.Core.Tokens.FlowSequenceStart or YamlDotNet.Core.Tokens.FlowMappingStart: open.Push((token, lastKey)); keyNext = false; break;
                    case YamlDotNet.Core.Tokens.FlowSequenceEnd or YamlDotNet.Core.Tokens.FlowMappingEnd: if (open.Count > 0) open.Pop(); keyNext = false; break;
                    default: keyNext = false; break;
                }
            }
        }
        catch (Exception) { /* the position reached so far is what we report */ }

        if (open.Count > 0)
        {
            var (token, key) = open.Peek();
            bool list = token is YamlDotNet.Core.Tokens.FlowSequenceStart;
            int line = (int)token.Start.Line;
            string owner = key is null ? "" : $" of key '{key}'";
            return new ConfigException(
                $"{source}:{line}:{token.Start.Column}: invalid YAML: the {(list ? "list '['" : "mapping '{'")}{owner} opened here is never closed " +
                $"(expected '{(list ? "]" : "}")}').", key, source, line, inner);
        }
        if (last is not null)
        {
            int line = (int)last.End.Line;
            return new ConfigException($"{source}:{line}:{last.End.Column}: invalid YAML after this point{(lastKey is null ? "" : $" (last key read: '{lastKey}')")}.",
                lastKey, source, line, inner);
        }
        return new ConfigException($"{source}: invalid YAML.", source: source, inner: inner);
    }

    // YamlDotNet prefixes messages with "(Line: 3, Col: 5, Idx: 20) - (Line: …): "; the location is already in front.
    private static string StripMark(string message)
    {
        int i = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line:", StringComparison.Ordinal) && i > 0 ? message[(i + 3)..] : message;
    }

    // fromOverride: the nodes were parsed from a --set value, so their line/column marks mean nothing to the user.
    private static void ApplyMapping(object target, OptionsModel model, YamlMappingNode mapping, string source, string prefix, bool fromOverride)
    {
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            string where = fromOverride ? source : At(source, keyNode);
            if (keyNode is not YamlScalarNode { Value: { } keyText })
                throw new ConfigException($"{where}: keys must be plain names such as learning_rate.", source: source, line: fromOverride ? null : Line(keyNode));
            var prop = FindProperty(model, keyText, prefix, where, fromOverride ? null : keyNode, source);
            string key = prefix + prop.Key;
            if (prop.Kind == OptionKind.Nested && valueNode is YamlMappingNode nestedMap)
            {
                object nested = GetOrCreateNested(target, prop, key, source, fromOverride ? null : valueNode);
                ApplyMapping(nested, prop.NestedModel, nestedMap, source, key + ".", fromOverride);
                continue;
            }
            if (prop.Kind == OptionKind.Map && valueNode is YamlMappingNode entries)
            {
                MergeMap(target, prop, entries, source, key, fromOverride);
                continue;
            }
            Assign(target, prop, valueNode, source, key, fromOverride);
        }
    }

    private static OptionProperty FindProperty(OptionsModel model, string name, string prefix, string where, YamlNode? node, string? source = null)
    {
        if (model.TryGet(name, out var prop)) return prop;
        var nearest = model.Keys
            .Select(k => (Key: k, Distance: Text.EditDistance.Between(name, k)))
            .OrderBy(p => p.Distance).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(3).Select(p => prefix + p.Key).ToList();
        string hint = nearest.Count == 0 ? "this group has no keys" : $"nearest valid keys: {string.Join(", ", nearest)}";
        throw new ConfigException($"{where}: unknown key '{prefix + name}' ({hint}).",
            prefix + name, source ?? where, node is null ? null : Line(node));
    }

    private static object GetOrCreateNested(object parent, OptionProperty prop, string key, string source, YamlNode? node)
    {
        object? existing = prop.Property.GetValue(parent);
        if (existing is not null) return existing;
        if (!prop.CanWrite)
            throw new ConfigException($"{Where(source, node)}: key '{key}' cannot be set (read-only and empty).", key, source, Line(node));
        object created = prop.NestedModel.CreateInstance();
        prop.Property.SetValue(parent, created);
        return created;
    }

    private static YamlNode ParseOverrideValue(string raw, OptionProperty prop, string where, string key)
    {
        string trimmed = raw.Trim();
        if (trimmed.StartsWith('[') || trimmed.StartsWith('{'))
        {
            var stream = new YamlStream();
            try { stream.Load(new StringReader(trimmed)); }
            catch (YamlException e)
            { throw new ConfigException($"{where}: value for '{key}' is not valid YAML: {StripMark(e.Message)}", key, where, inner: e); }
            catch (Exception e) when (e is not ConfigException)
            { throw new ConfigException($"{where}: value for '{key}' is not valid YAML (check that every '[' and '{{' is closed).", key, where, inner: e); }
            return stream.Documents[0].RootNode;
        }
        // A plain value is taken literally (so a string may contain '#' or ':'), except the null spellings.
        if (prop.Kind == OptionKind.List && trimmed.Length > 0 && !IsNullText(trimmed))
            return new YamlSequenceNode(trimmed.Split(',').Select(s => new YamlScalarNode(s.Trim())));
        if (prop.Kind == OptionKind.Scalar && prop.ValueType == typeof(string) && !IsNullText(trimmed))
            return new YamlScalarNode(raw) { Style = ScalarStyle.DoubleQuoted };
        return new YamlScalarNode(trimmed);
    }

    private static void Assign(object target, OptionProperty prop, YamlNode node, string source, string key, bool isOverride)
    {
        string where = isOverride ? source : At(source, node);
        int? line = isOverride ? null : Line(node);
        if (!prop.CanWrite && prop.Kind == OptionKind.Nested && node is not YamlMappingNode)
            throw new ConfigException($"{where}: key '{key}' is a group of options; give it a mapping (e.g. {key}: {{...}}).", key, source, line);
        if (!prop.CanWrite)
            throw new ConfigException($"{where}: key '{key}' is read-only.", key, source, line);

        object? value;
        if (prop.Kind == OptionKind.Map && IsNull(node) && !prop.AllowsNull)
        {
            // A named-number mapping that may not be null: null empties it.
            GetOrCreateMap(target, prop, key, source, isOverride ? null : node).Clear();
            return;
        }
        if (IsNull(node))
        {
            if (!prop.AllowsNull)
                throw new ConfigException($"{where}: key '{key}' is null but expects {Describe(prop)}.", key, source, line);
            value = null;
        }
        else
        {
            value = prop.Kind switch
            {
                OptionKind.Scalar => ConvertScalar(node, prop.ValueType, prop, where, key, source, line, elementIndex: null),
                OptionKind.List => ConvertList(node, prop, where, key, source, line),
                OptionKind.Map => throw new ConfigException(
                    $"{where}: key '{key}' expects {Describe(prop)} (e.g. {key}: {{name: 1}}), got {Kind(node)}.", key, source, line),
                _ => ConvertNested(node, where, key, source, line),
            };
        }
        prop.Property.SetValue(target, value);
    }

    private static Dictionary<string, double> GetOrCreateMap(object parent, OptionProperty prop, string key, string source, YamlNode? node)
    {
        if (prop.Property.GetValue(parent) is Dictionary<string, double> existing) return existing;
        if (!prop.CanWrite)
            throw new ConfigException($"{Where(source, node)}: key '{key}' cannot be set (read-only and empty).", key, source, Line(node));
        var created = new Dictionary<string, double>(StringComparer.Ordinal);
        prop.Property.SetValue(parent, created);
        return created;
    }

    // A mapping given for a named-number option updates the entries it names (later layers add to earlier ones).
    private static void MergeMap(object target, OptionProperty prop, YamlMappingNode entries, string source, string key, bool fromOverride)
    {
        var dict = GetOrCreateMap(target, prop, key, source, fromOverride ? null : entries);
        foreach (var (nameNode, valueNode) in entries.Children)
        {
            string where = fromOverride ? source : At(source, nameNode);
            if (nameNode is not YamlScalarNode { Value: { Length: > 0 } name })
                throw new ConfigException($"{where}: entries of '{key}' need plain names (e.g. {key}: {{name: 1}}).", key, source,
                    fromOverride ? null : Line(nameNode));
            dict[name] = ConvertMapValue(valueNode, fromOverride ? source : At(source, valueNode), $"{key}.{name}", source,
                fromOverride ? null : Line(valueNode));
        }
    }

    private static double ConvertMapValue(YamlNode node, string where, string entryKey, string source, int? line)
    {
        if (node is not YamlScalarNode scalar || IsNull(node))
            throw new ConfigException($"{where}: key '{entryKey}' expects a number or true/false, got {(IsNull(node) ? "null" : Kind(node))}.",
                entryKey, source, line);
        string t = (scalar.Value ?? "").Trim();
        if (t.Equals("true", StringComparison.OrdinalIgnoreCase)) return 1;
        if (t.Equals("false", StringComparison.OrdinalIgnoreCase)) return 0;
        if (TryParseFloat(t, out double d)) return d;
        throw new ConfigException($"{where}: key '{entryKey}' has value '{t}' but expects a number or true/false.", entryKey, source, line);
    }

    // Reached only for a non-mapping value: mappings are merged into the nested options by ApplyMapping.
    private static object ConvertNested(YamlNode node, string where, string key, string source, int? line) =>
        throw new ConfigException($"{where}: key '{key}' is a group of options and needs a mapping, got {Kind(node)}.", key, source, line);

    private static Array ConvertList(YamlNode node, OptionProperty prop, string where, string key, string source, int? line)
    {
        var items = node switch
        {
            YamlSequenceNode seq => seq.Children.ToList(),
            YamlScalarNode s when (s.Value ?? "").Contains(',') && s.Style == ScalarStyle.Plain =>
                s.Value!.Split(',').Select(v => (YamlNode)new YamlScalarNode(v.Trim())).ToList(),
            YamlScalarNode s => [s],
            _ => throw new ConfigException($"{where}: key '{key}' expects {Describe(prop)}, got {Kind(node)}.", key, source, line),
        };
        var array = Array.CreateInstance(prop.ValueType, items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            if (IsNull(items[i]))
                throw new ConfigException($"{where}: key '{key}' element {i} is null but expects {TypeName(prop.ValueType)}.", key, source, line);
            array.SetValue(ConvertScalar(items[i], prop.ValueType, prop, where, key, source, line, i), i);
        }
        return array;
    }

    private static object ConvertScalar(YamlNode node, Type type, OptionProperty prop, string where, string key, string source, int? line, int? elementIndex)
    {
        string what = elementIndex is null ? $"key '{key}'" : $"key '{key}' element {elementIndex}";
        if (node is not YamlScalarNode scalar)
            throw new ConfigException($"{where}: {what} expects {TypeName(type)}, got {Kind(node)}.", key, source, line);
        string text = scalar.Value ?? "";
        if (type == typeof(string)) return text;

        ConfigException WrongType(string? extra = null) => new(
            $"{where}: {what} has value '{text}' but expects {TypeName(type)}{extra}.", key, source, line);

        object value;
        string t = text.Trim();
        if (type == typeof(bool))
        {
            if (t.Equals("true", StringComparison.OrdinalIgnoreCase)) value = true;
            else if (t.Equals("false", StringComparison.OrdinalIgnoreCase)) value = false;
            else throw WrongType();
        }
        else if (type.IsEnum)
        {
            var names = EnumNames(type);
            if (!names.TryGetValue(t, out var member)) throw WrongType();
            value = member;
        }
        else if (type == typeof(int) || type == typeof(long))
        {
            string digits = t.Replace("_", "");
            long min = type == typeof(int) ? int.MinValue : long.MinValue, max = type == typeof(int) ? int.MaxValue : long.MaxValue;
            string range = $" (allowed range {min}..{max})";
            if (!long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l))
            {
                // 1e6 and 2048.0 are common spellings of integers in hyperparameter files.
                if (!double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)
                    || !double.IsFinite(d) || Math.Floor(d) != d) throw WrongType();
                if (d < -9.2e18 || d > 9.2e18) throw WrongType(range);
                l = (long)d;
            }
            if (l < min || l > max) throw WrongType(range);
            value = type == typeof(int) ? (object)(int)l : l;
        }
        else
        {
            if (!TryParseFloat(t, out double d)) throw WrongType();
            if (type == typeof(float))
            {
                // Parse the text as float directly: going through double could round twice.
                float f = double.IsFinite(d) ? float.Parse(t.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture) : (float)d;
                if (float.IsInfinity(f) && !double.IsInfinity(d)) throw WrongType(" (too large for float32)");
                value = f;
            }
            else value = d;
        }

        if (prop.Checks.Length > 0)
        {
            double numeric = Convert.ToDouble(value, CultureInfo.InvariantCulture);
            foreach (var check in prop.Checks)
                if (!check.IsSatisfied(numeric))
                    throw new ConfigException($"{where}: {what} has value {text} but must be {check.Describe()}.", key, source, line);
        }
        return value;
    }

    private static bool TryParseFloat(string t, out double value)
    {
        switch (t.ToLowerInvariant())
        {
            case ".inf" or "+.inf": value = double.PositiveInfinity; return true;
            case "-.inf": value = double.NegativeInfinity; return true;
            case ".nan": value = double.NaN; return true;
        }
        return double.TryParse(t.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    private static void Validate(object options, OptionsModel model, string prefix, int depth)
    {
        if (depth > 16) return; // a cycle of nested options; the levels above were checked
        foreach (var p in model.Properties)
        {
            object? v = p.Property.GetValue(options);
            string key = prefix + p.Key;
            if (v is null)
            {
                if (!p.AllowsNull) throw new ConfigException($"key '{key}' is null but expects {Describe(p)}.", key);
                continue;
            }
            if (p.Kind == OptionKind.Nested) { Validate(v, p.NestedModel, key + ".", depth + 1); continue; }
            if (p.Checks.Length == 0 || p.Kind == OptionKind.Map) continue;
            if (p.Kind == OptionKind.Scalar) CheckValue(p, key, v, null);
            else
            {
                var array = (Array)v;
                for (int i = 0; i < array.Length; i++) CheckValue(p, key, array.GetValue(i)!, i);
            }
        }
    }

    private static void CheckValue(OptionProperty p, string key, object v, int? index)
    {
        double d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
        foreach (var check in p.Checks)
            if (!check.IsSatisfied(d))
                throw new ConfigException(
                    $"key '{key}'{(index is null ? "" : $" element {index}")} has value {ConfigWriter.FormatScalar(v)} but must be {check.Describe()}.", key);
    }

    private static readonly ConcurrentDictionary<Type, Dictionary<string, object>> EnumNameCache = new();

    /// <summary>Accepted spellings: snake_case (<c>leaky_relu</c>) and the member name in any case (<c>LeakyRelu</c>).</summary>
    private static Dictionary<string, object> EnumNames(Type type) => EnumNameCache.GetOrAdd(type, t =>
    {
        var map = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in Enum.GetNames(t))
        {
            object member = Enum.Parse(t, name);
            map.TryAdd(ToSnakeCase(name), member);
            map.TryAdd(name, member);
        }
        return map;
    });

    internal static string TypeName(Type t)
    {
        if (t == typeof(int)) return "an integer (int32)";
        if (t == typeof(long)) return "an integer (int64)";
        if (t == typeof(float)) return "a number (float32)";
        if (t == typeof(double)) return "a number";
        if (t == typeof(bool)) return "true or false";
        if (t == typeof(string)) return "a string";
        if (t.IsEnum) return $"one of: {string.Join(", ", Enum.GetNames(t).Select(ToSnakeCase))}";
        return t.Name;
    }

    private static string Describe(OptionProperty p) => p.Kind switch
    {
        OptionKind.List when p.ValueType == typeof(int) || p.ValueType == typeof(long) => "a list of integers",
        OptionKind.List when p.ValueType == typeof(string) => "a list of strings",
        OptionKind.List when p.ValueType.IsEnum => $"a list of values among: {string.Join(", ", Enum.GetNames(p.ValueType).Select(ToSnakeCase))}",
        OptionKind.List => "a list of numbers",
        OptionKind.Nested => "a mapping of options",
        OptionKind.Map => "a mapping of names to numbers (true/false count as 1/0)",
        _ => TypeName(p.ValueType),
    };

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } s && IsNullText(s.Value ?? "");

    private static bool IsNullText(string text) => text is "" or "~" or "null" or "Null" or "NULL";

    private static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{s.Value}'",
        _ => node.NodeType.ToString(),
    };

    private static int? Line(YamlNode? node) => node is null || node.Start.Line <= 0 ? null : (int)node.Start.Line;

    private static string At(string source, YamlNode node) =>
        node.Start.Line > 0 ? $"{source}:{node.Start.Line}:{node.Start.Column}" : source;

    private static string Where(string source, YamlNode? node) => node is null ? source : At(source, node);
}
