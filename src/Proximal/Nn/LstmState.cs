namespace Proximal.Nn;

/// <summary>
/// The recurrent state of an <see cref="Lstm"/> for <see cref="Batch"/> independent sequences: hidden h and cell c,
/// each row-major [Batch × HiddenSize]. A new state is all zeros, which is also what an episode start resets to.
/// The caller owns it; <see cref="Lstm.Step"/> advances it in place.
/// </summary>
public sealed class LstmState
{
    public LstmState(int batch, int hiddenSize)
    {
        Guard.Size(batch, "LstmState batch", nameof(batch));
        Guard.Size(hiddenSize, "LstmState hidden size", nameof(hiddenSize));
        Batch = batch;
        HiddenSize = hiddenSize;
        Hidden = new float[checked(batch * hiddenSize)];
        Cell = new float[checked(batch * hiddenSize)];
    }

    public int Batch { get; }
    public int HiddenSize { get; }
    /// <summary>h [Batch × HiddenSize].</summary>
    public float[] Hidden { get; }
    /// <summary>c [Batch × HiddenSize].</summary>
    public float[] Cell { get; }

    /// <summary>Back to zeros (every sequence at an episode start).</summary>
    public void Clear()
    {
        Array.Clear(Hidden);
        Array.Clear(Cell);
    }

    /// <summary>Zeros the rows whose flag is set (those sequences start a new episode).</summary>
    public void ClearRows(ReadOnlySpan<bool> rows)
    {
        if (rows.Length != Batch) throw new ArgumentException($"LstmState: {rows.Length} flags for a batch of {Batch}.", nameof(rows));
        for (int b = 0; b < Batch; b++)
            if (rows[b])
            {
                Hidden.AsSpan(b * HiddenSize, HiddenSize).Clear();
                Cell.AsSpan(b * HiddenSize, HiddenSize).Clear();
            }
    }

    /// <summary>Copies another state of the same shape into this one.</summary>
    public void CopyFrom(LstmState other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Batch != Batch || other.HiddenSize != HiddenSize)
            throw new ArgumentException($"LstmState: cannot copy a {other.Batch}×{other.HiddenSize} state into a {Batch}×{HiddenSize} one.", nameof(other));
        other.Hidden.CopyTo(Hidden, 0);
        other.Cell.CopyTo(Cell, 0);
    }

    public LstmState Clone()
    {
        var c = new LstmState(Batch, HiddenSize);
        c.CopyFrom(this);
        return c;
    }
}
