using System.Collections.Concurrent;
using System.Reflection;
using System.Text;

namespace Proximal.Common.Config;

/// <summary>How an option's value is represented. Map: a <c>Dictionary&lt;string, double&gt;</c> of named numbers (e.g. env keyword options).</summary>
internal enum OptionKind { Scalar, List, Nested, Map }

/// <summary>One bindable property of an options type.</summary>
internal sealed class OptionProperty
{
    public required string Key { get; init; }
    public required PropertyInfo Property { get; init; }
    public required OptionKind Kind { get; init; }
    /// <summary>Scalar: the non-nullable value type (int, float, enum, string…); List: the element type; Nested: the options type; Map: double.</summary>
    public required Type ValueType { get; init; }
    /// <summary>Whether <c>null</c> may be assigned (Nullable&lt;T&gt; or a reference annotated as nullable).</summary>
    public required bool AllowsNull { get; init; }
    public required ConfigCheckAttribute[] Checks { get; init; }
    public bool CanWrite => Property.SetMethod is { IsPublic: true };
    public OptionsModel NestedModel => OptionsModel.For(ValueType);
}

/// <summary>The bindable properties of an options type, keyed by snake_case name; built once per type.</summary>
internal sealed class OptionsModel
{
    private static readonly ConcurrentDictionary<Type, OptionsModel> Cache = new();
    private readonly Dictionary<string, OptionProperty> _byKey;

    private OptionsModel(Type type, List<OptionProperty> properties)
    {
        Type = type;
        Properties = properties;
        _byKey = new Dictionary<string, OptionProperty>(StringComparer.Ordinal);
        foreach (var p in properties)
            if (!_byKey.TryAdd(p.Key, p))
                throw new ConfigException($"Options type {type.Name}: properties {_byKey[p.Key].Property.Name} and {p.Property.Name} both map to key '{p.Key}'.");
    }

    public Type Type { get; }
    public IReadOnlyList<OptionProperty> Properties { get; }
    public IEnumerable<string> Keys => Properties.Select(p => p.Key);
    public bool TryGet(string key, out OptionProperty property) => _byKey.TryGetValue(key, out property!);

    public static OptionsModel For(Type type) => Cache.GetOrAdd(type, Build);

    public static bool IsNestedOptionsType(Type t) =>
        t.IsClass && !t.IsAbstract && t != typeof(string) && !t.IsArray && t.GetConstructor(Type.EmptyTypes) is not null
        && !typeof(System.Collections.IEnumerable).IsAssignableFrom(t) && !typeof(Delegate).IsAssignableFrom(t);

    public static bool IsScalarType(Type t) =>
        t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double) || t == typeof(bool)
        || t == typeof(string) || t.IsEnum;

    public static bool IsNumeric(Type t) => t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double);

    public object CreateInstance() => Activator.CreateInstance(Type)!;

    private static OptionsModel Build(Type type)
    {
        if (!IsNestedOptionsType(type))
            throw new ConfigException($"Options type {type.FullName} must be a non-abstract class or record with a public parameterless constructor.");
        var nullability = new NullabilityInfoContext();
        var list = new List<OptionProperty>();
        foreach (var prop in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (prop.GetIndexParameters().Length > 0 || prop.GetMethod is not { IsPublic: true }) continue;
            if (prop.IsDefined(typeof(ConfigIgnoreAttribute))) continue;
            // Records expose EqualityContract as protected, so it is already excluded above.
            bool settable = prop.SetMethod is { IsPublic: true };
            Type t = prop.PropertyType;
            Type? underlying = Nullable.GetUnderlyingType(t);
            bool refNullable = !t.IsValueType && nullability.Create(prop).WriteState == NullabilityState.Nullable;
            OptionKind kind;
            Type valueType;
            if (IsScalarType(underlying ?? t)) { kind = OptionKind.Scalar; valueType = underlying ?? t; }
            else if (t == typeof(Dictionary<string, double>)) { kind = OptionKind.Map; valueType = typeof(double); }
            else if (t.IsArray && t.GetArrayRank() == 1 && IsScalarType(t.GetElementType()!) && t.GetElementType() != typeof(bool))
            { kind = OptionKind.List; valueType = t.GetElementType()!; }
            else if (IsNestedOptionsType(t)) { kind = OptionKind.Nested; valueType = t; }
            else if (!settable) continue; // a computed, read-only property of some other type
            else throw new ConfigException(
                $"Options type {type.Name}: property {prop.Name} has type {t.Name}, which configuration cannot bind " +
                "(supported: int, long, float, double, bool, string, enums, their nullable forms, arrays of these, Dictionary<string, double>, nested options classes).");

            if (!settable && kind is not (OptionKind.Nested or OptionKind.Map)) continue; // read-only scalars are computed values
            var checks = prop.GetCustomAttributes<ConfigCheckAttribute>(inherit: true).ToArray();
            if (checks.Length > 0 && !IsNumeric(valueType))
                throw new ConfigException($"Options type {type.Name}: property {prop.Name} has a range check but is not numeric.");
            list.Add(new OptionProperty
            {
                Key = prop.GetCustomAttribute<ConfigKeyAttribute>()?.Key ?? ToSnakeCase(prop.Name),
                Property = prop,
                Kind = kind,
                ValueType = valueType,
                AllowsNull = underlying is not null || refNullable,
                Checks = checks,
            });
        }
        return new OptionsModel(type, list);
    }

    /// <summary>
    /// PascalCase → snake_case with acronyms kept together: LearningRate → learning_rate, NSteps → n_steps,
    /// MaxKLDivergence → max_kl_divergence, Layer2Size → layer2_size.
    /// </summary>
    public static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c))
            {
                bool prevLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                bool acronymEnd = i > 0 && char.IsUpper(name[i - 1]) && i + 1 < name.Length && char.IsLower(name[i + 1]);
                if ((prevLowerOrDigit || acronymEnd) && sb.Length > 0 && sb[^1] != '_') sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
