package io.runicquanta.codec;

/**
 * The function Partition[I, J] of RFC 6330 section 4.4.1.2: splits I items into J parts whose sizes
 * differ by at most one, JL parts of size IL followed by JS parts of size IS. Used for source blocks
 * (I = Kt symbols, J = Z blocks: KL, KS, ZL, ZS) and sub-blocks (I = T/Al alignment units, J = N
 * sub-blocks: TL, TS, NL, NS). Immutable.
 *
 * @param largeSize IL = ceil(I/J)
 * @param smallSize IS = floor(I/J)
 * @param largeCount JL = I - IS*J
 * @param smallCount JS = J - JL
 */
public record Partition(long largeSize, long smallSize, int largeCount, int smallCount) {

  /**
   * Computes Partition[I, J].
   *
   * @param items I, at least 0
   * @param parts J, at least 1
   * @throws IllegalArgumentException if I is negative or J is not positive
   */
  public static Partition of(long items, int parts) {
    if (items < 0) {
      throw new IllegalArgumentException("I = " + items + ", expected >= 0");
    }
    if (parts < 1) {
      throw new IllegalArgumentException("J = " + parts + ", expected >= 1");
    }
    long il = (items + parts - 1) / parts;
    long is = items / parts;
    int jl = (int) (items - is * parts);
    return new Partition(il, is, jl, parts - jl);
  }

  /** J, the number of parts. */
  public int parts() {
    return largeCount + smallCount;
  }

  /** Size of part {@code index} (IL for the first JL parts, IS after). */
  public long size(int index) {
    checkIndex(index);
    return index < largeCount ? largeSize : smallSize;
  }

  /** Sum of the sizes of the parts before {@code index} (so the start of part {@code index}). */
  public long start(int index) {
    if (index < 0 || index > parts()) {
      throw new IndexOutOfBoundsException("part " + index + ", expected 0.." + parts());
    }
    return index <= largeCount
        ? index * largeSize
        : largeCount * largeSize + (long) (index - largeCount) * smallSize;
  }

  private void checkIndex(int index) {
    if (index < 0 || index >= parts()) {
      throw new IndexOutOfBoundsException("part " + index + ", expected 0.." + (parts() - 1));
    }
  }
}
