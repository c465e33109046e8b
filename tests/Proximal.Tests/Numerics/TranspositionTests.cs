using Proximal.Numerics;

namespace Proximal.Tests.Numerics;

public class TranspositionTests
{
    [Theory]
    [InlineData(256, 210)] // the self-play network's first layer
    [InlineData(1, 7)]
    [InlineData(17, 33)]   // ragged 8 × 8 tiles both ways
    [InlineData(8, 8)]
    [InlineData(3, 40)]
    public void TransposeMovesEveryElementToItsMirroredPlace(int rows, int cols)
    {
        var rng = new Rng((ulong)(rows * 100 + cols));
        var source = new float[rows * cols];
        for (int i = 0; i < source.Length; i++) source[i] = (float)rng.Uniform(-1, 1);
        var destination = new float[rows * cols + 1];
        destination[^1] = 42f;
        Transposition.Transpose(source, rows, cols, destination);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) Assert.Equal(source[r * cols + c], destination[c * rows + r]);
        Assert.Equal(42f, destination[^1]); // nothing written past rows × cols
        Assert.Throws<ArgumentException>(() => Transposition.Transpose(source, rows, cols, new float[rows * cols - 1]));
    }

    [Theory]
    [InlineData(210, 64, 64, 210)] // a sparse weight gradient's block sums into C's rows
    [InlineData(19, 13, 16, 25)]   // strided source and destination, ragged tiles
    public unsafe void AddTransposedAddsEachElementOnceWithStrides(int rows, int cols, int sourceStride, int destinationStride)
    {
        var rng = new Rng(5);
        var source = new float[rows * sourceStride];
        var destination = new float[cols * destinationStride];
        for (int i = 0; i < source.Length; i++) source[i] = (float)rng.Uniform(-1, 1);
        for (int i = 0; i < destination.Length; i++) destination[i] = (float)rng.Uniform(-1, 1);
        var before = (float[])destination.Clone();
        fixed (float* s = source)
        fixed (float* d = destination)
            Transposition.AddTransposed(s, sourceStride, d, destinationStride, rows, cols);
        for (int c = 0; c < cols; c++)
            for (int j = 0; j < destinationStride; j++)
            {
                float expected = j < rows ? before[c * destinationStride + j] + source[j * sourceStride + c] : before[c * destinationStride + j];
                Assert.Equal(expected, destination[c * destinationStride + j]); // and the gap past each row untouched
            }
    }
}
