package io.runicquanta.codec;

/**
 * A block could not be decoded because too few usable symbols were found: the message names the
 * block, its K, how many symbols were listed, how many were usable, and why the others were not
 * (missing, corrupt). Nothing is written when this is thrown.
 */
public class InsufficientSymbolsException extends CodecException {
  private static final long serialVersionUID = 1L;
  private final int usableSymbols;
  private final int sourceSymbols;

  /**
   * @param message the full explanation
   * @param sourceSymbols K of the source block
   * @param usableSymbols how many valid, distinct symbols were available
   */
  public InsufficientSymbolsException(String message, int sourceSymbols, int usableSymbols) {
    super(message);
    this.sourceSymbols = sourceSymbols;
    this.usableSymbols = usableSymbols;
  }

  /** K of the source block that failed. */
  public int sourceSymbols() {
    return sourceSymbols;
  }

  /** How many valid, distinct symbols were available for it. */
  public int usableSymbols() {
    return usableSymbols;
  }
}
