namespace Proximal.Algorithms;

/// <summary>Rolling window of the last finished training episodes (SB3's ep_rew_mean over 100).</summary>
public sealed class EpisodeWindow(int capacity)
{
    private readonly double[] _returns = new double[capacity];
    private readonly double[] _lengths = new double[capacity];
    private int _count, _next;

    public int Capacity => capacity;
    /// <summary>Episodes finished since training began (not only those in the window).</summary>
    public long Total { get; private set; }

    public void Add(double ret, int length)
    {
        _returns[_next] = ret; _lengths[_next] = length;
        _next = (_next + 1) % capacity;
        _count = Math.Min(_count + 1, capacity);
        Total++;
    }

    public double MeanReturn => Mean(_returns.AsSpan(0, _count));
    public double MeanLength => Mean(_lengths.AsSpan(0, _count));

    // Oldest first, so Load replays them in order.
    public double[] Returns => Ordered(_returns);
    public double[] Lengths => Ordered(_lengths);

    private double[] Ordered(double[] ring)
    {
        var r = new double[_count];
        int first = _count < capacity ? 0 : _next;
        for (int i = 0; i < _count; i++) r[i] = ring[(first + i) % capacity];
        return r;
    }

    public void Load(ReadOnlySpan<double> returns, ReadOnlySpan<double> lengths, long total)
    {
        if (returns.Length != lengths.Length || returns.Length > capacity) throw new ArgumentException("episode window arrays are inconsistent");
        _count = 0; _next = 0;
        for (int i = 0; i < returns.Length; i++) Add(returns[i], (int)lengths[i]);
        Total = total;
    }

    private static double Mean(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (double x in v) s += x;
        return v.Length == 0 ? double.NaN : s / v.Length;
    }
}
