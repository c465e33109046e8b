using System.Globalization;

namespace Proximal.Common.Config;

/// <summary>Overrides the snake_case key derived from a property name (e.g. <c>[ConfigKey("vf_coef")]</c>).</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ConfigKeyAttribute(string key) : Attribute
{
    public string Key { get; } = key;
}

/// <summary>Leaves a property out of binding and of the written YAML (e.g. something computed).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ConfigIgnoreAttribute : Attribute;

/// <summary>
/// A check on a numeric option (for a list, on every element) that binding and <see cref="ConfigBinder.Validate"/>
/// enforce. Derive from it for other rules.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = true)]
public abstract class ConfigCheckAttribute : Attribute
{
    /// <summary>True when <paramref name="value"/> is allowed.</summary>
    public abstract bool IsSatisfied(double value);

    /// <summary>What is allowed, completing "must be …" (e.g. <c>in [0, 1]</c>).</summary>
    public abstract string Describe();

    private protected static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>The value must lie between <paramref name="min"/> and <paramref name="max"/> (inclusive unless marked exclusive).</summary>
public sealed class RangeAttribute(double min, double max) : ConfigCheckAttribute
{
    public double Min { get; } = min;
    public double Max { get; } = max;
    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }

    public override bool IsSatisfied(double value) =>
        (MinExclusive ? value > Min : value >= Min) && (MaxExclusive ? value < Max : value <= Max);

    public override string Describe() =>
        $"in {(MinExclusive ? '(' : '[')}{Format(Min)}, {Format(Max)}{(MaxExclusive ? ')' : ']')}";
}

/// <summary>The value must be strictly greater than zero (and not NaN).</summary>
public sealed class PositiveAttribute : ConfigCheckAttribute
{
    public override bool IsSatisfied(double value) => value > 0;
    public override string Describe() => "> 0";
}

/// <summary>The value must be zero or greater (and not NaN).</summary>
public sealed class NonNegativeAttribute : ConfigCheckAttribute
{
    public override bool IsSatisfied(double value) => value >= 0;
    public override string Describe() => ">= 0";
}
