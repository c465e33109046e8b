using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Proximal.Numerics;

/// <summary>
/// A matrix [<see cref="Rows"/> × <see cref="Columns"/>] kept as its nonzero entries, row by row (compressed sparse
/// rows): row r's entries are <see cref="ColumnIndices"/> and <see cref="Values"/> from RowStarts[r] up to
/// RowStarts[r + 1], columns increasing. Built from a dense matrix by <see cref="TryCompress"/>; the buffers grow once
/// and are reused, so steady-state compressions allocate nothing.
/// </summary>
public sealed class SparseRows
{
    private int[] _rowStarts = [0], _columns = [];
    private float[] _values = [];

    public int Rows { get; private set; }
    public int Columns { get; private set; }
    public int NonZeros => _rowStarts[Rows];
    public ReadOnlySpan<int> RowStarts => _rowStarts.AsSpan(0, Rows + 1);
    public ReadOnlySpan<int> ColumnIndices => _columns.AsSpan(0, NonZeros);
    public ReadOnlySpan<float> Values => _values.AsSpan(0, NonZeros);

    /// <summary>
    /// Keeps the entries of <paramref name="dense"/> [rows × columns, row-major] that are not ±0 (NaN is kept). Returns
    /// false, leaving an empty matrix, as soon as more than <paramref name="maxNonZeros"/> are found: the caller's
    /// dense path is then the faster one, and the scan stopped early.
    /// </summary>
    public unsafe bool TryCompress(ReadOnlySpan<float> dense, int rows, int columns, int maxNonZeros)
    {
        if (rows < 0 || columns < 1) throw new ArgumentOutOfRangeException(nameof(rows), $"SparseRows: {rows} × {columns} is not a matrix.");
        long size = (long)rows * columns;
        if (dense.Length < size) throw new ArgumentException($"SparseRows: {dense.Length} values given for {rows} × {columns}.", nameof(dense));
        int capacity = (int)Math.Min(Math.Max(maxNonZeros, 0), size);
        if (_rowStarts.Length < rows + 1) _rowStarts = new int[rows + 1];
        if (_columns.Length < capacity) { _columns = new int[capacity]; _values = new float[capacity]; }
        Rows = 0;
        Columns = columns;
        int nz = 0;
        fixed (float* d = dense)
        fixed (int* cols = _columns)
        fixed (float* vals = _values)
        {
            for (int r = 0; r < rows; r++)
            {
                _rowStarts[r] = nz;
                float* row = d + (nint)r * columns;
                int c = 0;
                if (Vector256.IsHardwareAccelerated)
                    for (; c + 8 <= columns; c += 8)
                    {
                        // A lane is kept unless it equals zero (+0 and −0 compare equal; NaN compares unequal).
                        uint keep = ~Vector256.Equals(Vector256.Load(row + c), Vector256<float>.Zero).ExtractMostSignificantBits() & 0xFFu;
                        if (keep == 0) continue;
                        if (nz + BitOperations.PopCount(keep) > capacity) { _rowStarts[0] = 0; return false; }
                        while (keep != 0)
                        {
                            int lane = BitOperations.TrailingZeroCount(keep);
                            keep &= keep - 1;
                            cols[nz] = c + lane;
                            vals[nz++] = row[c + lane];
                        }
                    }
                for (; c < columns; c++)
                {
                    float v = row[c];
                    if (v == 0) continue;
                    if (nz == capacity) { _rowStarts[0] = 0; return false; }
                    cols[nz] = c;
                    vals[nz++] = v;
                }
            }
        }
        _rowStarts[rows] = nz;
        Rows = rows;
        return true;
    }
}

/// <summary>
/// Products with a mostly-zero left operand (<see cref="SparseRows"/>: one-hot codes, board planes) that skip its zero
/// entries and give exactly the bits of <see cref="Gemm.Multiply"/> on the dense matrix. The GEMM sums every element of
/// C from zero with one fused multiply-add per k step, k increasing, in blocks of <see cref="Gemm.KC"/>, each block's
/// sum then stored (the first block with beta, later ones added). Here each element is summed the same way over its
/// nonzero k only. A skipped step would have added x·w = ±0, which leaves a running sum unchanged — a sum that starts
/// at +0 never becomes −0 (in round-to-nearest, +0 + −0 = +0) — so no bit changes, as long as the dense operand is
/// finite (0·∞ is NaN in the GEMM and skipped here; a network with infinite weights has failed already).
/// <para>Any number of threads gives the same bits: C is cut into whole rows (<see cref="Multiply"/>) or whole column
/// blocks (<see cref="AddTransposedProduct"/>), never along k. Steady-state calls allocate nothing.</para>
/// </summary>
public static class SparseGemm
{
    /// <summary>Below this many multiply-adds per thread, a second thread costs more than it saves.</summary>
    private const long MinWorkPerThread = 1L << 18;

    /// <summary>
    /// C[x.Rows × n] = x·B, or beta·C + x·B for beta ≠ 0 (fused, as the GEMM): B [x.Columns × n] row-major with rows of
    /// n. The same bits as <c>Gemm.Multiply(No, No, x.Rows, n, x.Columns, 1, dense x, x.Columns, B, n, beta, C, n)</c>
    /// (and as its (No, Yes) form on Bᵀ, which a layer's forward x·Wᵀ is).
    /// </summary>
    public static void Multiply(SparseRows x, ReadOnlySpan<float> b, int n, float beta, Span<float> c, int threads = 1)
        => Multiply(x, b, n, beta, c, threads, Gemm.BestTier);

    internal static unsafe void Multiply(SparseRows x, ReadOnlySpan<float> b, int n, float beta, Span<float> c, int threads, Gemm.Tier tier)
    {
        ArgumentNullException.ThrowIfNull(x);
        Check(n, threads);
        if (b.Length < (long)x.Columns * n) throw new ArgumentException($"SparseGemm: B has {b.Length} values; {x.Columns} × {n} needed.", nameof(b));
        if (c.Length < (long)x.Rows * n) throw new ArgumentException($"SparseGemm: C has {c.Length} values; {x.Rows} × {n} needed.", nameof(c));
        if (x.Rows == 0 || n == 0) return;
        fixed (int* starts = x.RowStarts)
        fixed (int* cols = x.ColumnIndices)
        fixed (float* vals = x.Values)
        fixed (float* pb = b)
        fixed (float* pc = c)
        {
            var job = new Job(starts, cols, vals, x.Rows, x.Columns, pb, n, pc, beta, tier, transposed: false);
            int parts = Parts(threads, (long)x.NonZeros * n, x.Rows / RowGrain);
            if (parts <= 1) job.RunPart(0, 1);
            else WorkerTeam.RunStruct(job, parts);
        }
    }

    /// <summary>
    /// C[n × x.Columns] += Gᵀ·x for G [x.Rows × n] row-major: a layer's weight gradient from its output gradient G and a
    /// sparse input x. The same bits as <c>Gemm.Multiply(Yes, No, n, x.Columns, x.Rows, 1, G, n, dense x, x.Columns, 1, C, x.Columns)</c>:
    /// k is the batch here, so each block of <see cref="Gemm.KC"/> rows is summed into a workspace [x.Columns × block of C's
    /// rows] (the orientation a row of G multiplies into) and then added to C, as the GEMM adds its block sums.
    /// </summary>
    public static void AddTransposedProduct(ReadOnlySpan<float> g, int n, SparseRows x, Span<float> c, int threads = 1)
        => AddTransposedProduct(g, n, x, c, threads, Gemm.BestTier);

    internal static unsafe void AddTransposedProduct(ReadOnlySpan<float> g, int n, SparseRows x, Span<float> c, int threads, Gemm.Tier tier)
    {
        ArgumentNullException.ThrowIfNull(x);
        Check(n, threads);
        if (g.Length < (long)x.Rows * n) throw new ArgumentException($"SparseGemm: G has {g.Length} values; {x.Rows} × {n} needed.", nameof(g));
        if (c.Length < (long)n * x.Columns) throw new ArgumentException($"SparseGemm: C has {c.Length} values; {n} × {x.Columns} needed.", nameof(c));
        if (x.Rows == 0 || n == 0) return;
        fixed (int* starts = x.RowStarts)
        fixed (int* cols = x.ColumnIndices)
        fixed (float* vals = x.Values)
        fixed (float* pg = g)
        fixed (float* pc = c)
        {
            var job = new Job(starts, cols, vals, x.Rows, x.Columns, pg, n, pc, 1f, tier, transposed: true);
            int parts = Parts(threads, (long)x.NonZeros * n, (n + Job.CRowBlock - 1) / Job.CRowBlock);
            if (parts <= 1) job.RunPart(0, 1);
            else WorkerTeam.RunStruct(job, parts);
        }
    }

    private const int RowGrain = 8;

    private static int Parts(int threads, long work, int pieces) =>
        (int)Math.Max(1, Math.Min(Math.Min(threads, pieces), work / MinWorkPerThread));

    private static void Check(int n, int threads)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "SparseGemm: n must be non-negative.");
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "SparseGemm needs at least one thread.");
    }

    /// <summary>One product on raw pointers, so that the worker team's threads can share it.</summary>
    private readonly unsafe struct Job(int* starts, int* cols, float* vals, int rows, int k, float* dense, int n, float* c, float beta, Gemm.Tier tier, bool transposed) : IPartitionedWork
    {
        /// <summary>C's rows handled together by <see cref="AddTransposedProduct"/>'s workspace: a multiple of every tier's chunk.</summary>
        public const int CRowBlock = 64;

        public void RunPart(int part, int parts)
        {
            if (!transposed)
            {
                int grains = (rows + RowGrain - 1) / RowGrain;
                int r0 = (int)((long)grains * part / parts) * RowGrain, r1 = Math.Min(rows, (int)((long)grains * (part + 1) / parts) * RowGrain);
                if (r0 < r1) MultiplyRows(r0, r1);
            }
            else
            {
                int blocks = (n + CRowBlock - 1) / CRowBlock;
                int o0 = (int)((long)blocks * part / parts) * CRowBlock, o1 = Math.Min(n, (int)((long)blocks * (part + 1) / parts) * CRowBlock);
                for (int o = o0; o < o1; o += CRowBlock) AddTransposedBlock(o, Math.Min(CRowBlock, o1 - o));
            }
        }

        // ---- C = x·B: rows r0..r1, C's columns in chunks of four vectors, then single vectors, then one at a time ----

        private void MultiplyRows(int r0, int r1)
        {
            int j0 = 0;
            if (tier == Gemm.Tier.V512)
                for (; j0 + 64 <= n; j0 += 64)
                    for (int r = r0; r < r1; r++) Row512(r, j0);
            if (tier != Gemm.Tier.Scalar)
            {
                for (; j0 + 32 <= n; j0 += 32)
                    for (int r = r0; r < r1; r++) Row256x4(r, j0);
                for (; j0 + 8 <= n; j0 += 8)
                    for (int r = r0; r < r1; r++) Row256x1(r, j0);
            }
            for (; j0 < n; j0++)
                for (int r = r0; r < r1; r++) RowScalar(r, j0);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private float StoreBeta(int kb) => kb == 0 ? beta : 1f; // the GEMM's first block takes beta, later ones add

        private void Row512(int r, int j0)
        {
            int p = starts[r], end = starts[r + 1];
            float* cr = c + (nint)r * n + j0;
            for (int kb = 0; kb < k; kb += Gemm.KC)
            {
                int kEnd = kb + Gemm.KC;
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; p < end && cols[p] < kEnd; p++)
                {
                    var v = Vector512.Create(vals[p]);
                    float* br = dense + (nint)cols[p] * n + j0;
                    a0 = Vector512.FusedMultiplyAdd(v, Vector512.Load(br), a0);
                    a1 = Vector512.FusedMultiplyAdd(v, Vector512.Load(br + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(v, Vector512.Load(br + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(v, Vector512.Load(br + 48), a3);
                }
                float be = StoreBeta(kb);
                Store(cr, be, a0); Store(cr + 16, be, a1); Store(cr + 32, be, a2); Store(cr + 48, be, a3);
            }
        }

        private void Row256x4(int r, int j0)
        {
            int p = starts[r], end = starts[r + 1];
            float* cr = c + (nint)r * n + j0;
            for (int kb = 0; kb < k; kb += Gemm.KC)
            {
                int kEnd = kb + Gemm.KC;
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (; p < end && cols[p] < kEnd; p++)
                {
                    var v = Vector256.Create(vals[p]);
                    float* br = dense + (nint)cols[p] * n + j0;
                    a0 = Vector256.FusedMultiplyAdd(v, Vector256.Load(br), a0);
                    a1 = Vector256.FusedMultiplyAdd(v, Vector256.Load(br + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(v, Vector256.Load(br + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(v, Vector256.Load(br + 24), a3);
                }
                float be = StoreBeta(kb);
                Store(cr, be, a0); Store(cr + 8, be, a1); Store(cr + 16, be, a2); Store(cr + 24, be, a3);
            }
        }

        private void Row256x1(int r, int j0)
        {
            int p = starts[r], end = starts[r + 1];
            float* cr = c + (nint)r * n + j0;
            for (int kb = 0; kb < k; kb += Gemm.KC)
            {
                int kEnd = kb + Gemm.KC;
                Vector256<float> a0 = default;
                for (; p < end && cols[p] < kEnd; p++)
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(vals[p]), Vector256.Load(dense + (nint)cols[p] * n + j0), a0);
                Store(cr, StoreBeta(kb), a0);
            }
        }

        private void RowScalar(int r, int j)
        {
            int p = starts[r], end = starts[r + 1];
            ref float cij = ref c[(nint)r * n + j];
            for (int kb = 0; kb < k; kb += Gemm.KC)
            {
                int kEnd = kb + Gemm.KC;
                float s = 0;
                for (; p < end && cols[p] < kEnd; p++) s = MathF.FusedMultiplyAdd(vals[p], dense[(nint)cols[p] * n + j], s);
                float be = StoreBeta(kb);
                cij = be == 0 ? s : MathF.FusedMultiplyAdd(be, cij, s);
            }
        }

        private static void Store(float* dst, float be, Vector512<float> sum)
        {
            if (be == 0) sum.Store(dst);
            else Vector512.FusedMultiplyAdd(Vector512.Create(be), Vector512.Load(dst), sum).Store(dst);
        }

        private static void Store(float* dst, float be, Vector256<float> sum)
        {
            if (be == 0) sum.Store(dst);
            else Vector256.FusedMultiplyAdd(Vector256.Create(be), Vector256.Load(dst), sum).Store(dst);
        }

        // ---- C += Gᵀ·x: C's rows o0..o0+width (G's columns), every k block of batch rows summed in a workspace ----

        /// <summary>
        /// For each block of <see cref="Gemm.KC"/> batch rows: S [k × width] = Σ_rows x[row, i] · G[row, o0..], one fused
        /// multiply-add per nonzero x[row, i] (rows in order, as the GEMM's k), then C[o, i] += S[i, o] for every i — also
        /// where S is still +0, exactly as the GEMM adds its block sums.
        /// </summary>
        private void AddTransposedBlock(int o0, int width)
        {
            float* s = Workspace.Get(k * CRowBlock);
            for (int b0 = 0; b0 < rows; b0 += Gemm.KC)
            {
                int b1 = Math.Min(rows, b0 + Gemm.KC);
                new Span<float>(s, k * width).Clear();
                int o = 0;
                if (tier == Gemm.Tier.V512)
                {
                    for (; o + 64 <= width; o += 64) SumBlock512x4(b0, b1, o0, o, width, s);
                    for (; o + 16 <= width; o += 16) SumBlock512x1(b0, b1, o0, o, width, s);
                }
                if (tier != Gemm.Tier.Scalar)
                {
                    for (; o + 32 <= width; o += 32) SumBlock256x4(b0, b1, o0, o, width, s);
                    for (; o + 8 <= width; o += 8) SumBlock256x1(b0, b1, o0, o, width, s);
                }
                for (; o < width; o++)
                    for (int r = b0; r < b1; r++)
                    {
                        float gro = dense[(nint)r * n + o0 + o];
                        for (int p = starts[r], end = starts[r + 1]; p < end; p++)
                        {
                            ref float si = ref s[(nint)cols[p] * width + o];
                            si = MathF.FusedMultiplyAdd(vals[p], gro, si);
                        }
                    }
                // C = fma(1, C, S) = C + S element by element: S [k × width] added transposed to C's rows o0.. (8 × 8 tiles).
                Transposition.AddTransposed(s, width, c + (nint)o0 * k, k, k, width);
            }
        }

        // S[i, o..o+w] = fma(x[r, i], G[r, o0+o..], S[i, o..]) for the nonzero x[r, i] of rows b0..b1, w = 64, 16, 32 or 8.
        private void SumBlock512x4(int b0, int b1, int o0, int o, int width, float* s)
        {
            for (int r = b0; r < b1; r++)
            {
                float* gr = dense + (nint)r * n + o0 + o;
                Vector512<float> g0 = Vector512.Load(gr), g1 = Vector512.Load(gr + 16), g2 = Vector512.Load(gr + 32), g3 = Vector512.Load(gr + 48);
                for (int p = starts[r], end = starts[r + 1]; p < end; p++)
                {
                    var v = Vector512.Create(vals[p]);
                    float* si = s + (nint)cols[p] * width + o;
                    Vector512.FusedMultiplyAdd(v, g0, Vector512.Load(si)).Store(si);
                    Vector512.FusedMultiplyAdd(v, g1, Vector512.Load(si + 16)).Store(si + 16);
                    Vector512.FusedMultiplyAdd(v, g2, Vector512.Load(si + 32)).Store(si + 32);
                    Vector512.FusedMultiplyAdd(v, g3, Vector512.Load(si + 48)).Store(si + 48);
                }
            }
        }

        private void SumBlock512x1(int b0, int b1, int o0, int o, int width, float* s)
        {
            for (int r = b0; r < b1; r++)
            {
                var g0 = Vector512.Load(dense + (nint)r * n + o0 + o);
                for (int p = starts[r], end = starts[r + 1]; p < end; p++)
                {
                    float* si = s + (nint)cols[p] * width + o;
                    Vector512.FusedMultiplyAdd(Vector512.Create(vals[p]), g0, Vector512.Load(si)).Store(si);
                }
            }
        }

        private void SumBlock256x4(int b0, int b1, int o0, int o, int width, float* s)
        {
            for (int r = b0; r < b1; r++)
            {
                float* gr = dense + (nint)r * n + o0 + o;
                Vector256<float> g0 = Vector256.Load(gr), g1 = Vector256.Load(gr + 8), g2 = Vector256.Load(gr + 16), g3 = Vector256.Load(gr + 24);
                for (int p = starts[r], end = starts[r + 1]; p < end; p++)
                {
                    var v = Vector256.Create(vals[p]);
                    float* si = s + (nint)cols[p] * width + o;
                    Vector256.FusedMultiplyAdd(v, g0, Vector256.Load(si)).Store(si);
                    Vector256.FusedMultiplyAdd(v, g1, Vector256.Load(si + 8)).Store(si + 8);
                    Vector256.FusedMultiplyAdd(v, g2, Vector256.Load(si + 16)).Store(si + 16);
                    Vector256.FusedMultiplyAdd(v, g3, Vector256.Load(si + 24)).Store(si + 24);
                }
            }
        }

        private void SumBlock256x1(int b0, int b1, int o0, int o, int width, float* s)
        {
            for (int r = b0; r < b1; r++)
            {
                var g0 = Vector256.Load(dense + (nint)r * n + o0 + o);
                for (int p = starts[r], end = starts[r + 1]; p < end; p++)
                {
                    float* si = s + (nint)cols[p] * width + o;
                    Vector256.FusedMultiplyAdd(Vector256.Create(vals[p]), g0, Vector256.Load(si)).Store(si);
                }
            }
        }
    }

    /// <summary>Per-thread workspace for <see cref="AddTransposedProduct"/>'s block sums, grown on demand, pinned.</summary>
    private static unsafe class Workspace
    {
        [ThreadStatic] private static float[]? _buffer;

        public static float* Get(int floats)
        {
            if (_buffer is null || _buffer.Length < floats) _buffer = GC.AllocateUninitializedArray<float>(floats, pinned: true);
            return (float*)Unsafe.AsPointer(ref _buffer[0]);
        }
    }
}
