package io.runicquanta.codec;

/**
 * The symbols received for a source block do not determine it (the decoding matrix of RFC 6330
 * section 5.4 does not have full rank): more symbols are needed. Never accompanied by output.
 */
public class UndecodableBlockException extends CodecException {
  private static final long serialVersionUID = 1L;
  private final int sourceBlockNumber;
  private final int sourceSymbols;
  private final int receivedSymbols;

  /**
   * @param sourceBlockNumber the block (SBN), or -1 when the caller did not say
   * @param sourceSymbols K of the block
   * @param receivedSymbols how many distinct symbols the decoder had
   */
  public UndecodableBlockException(int sourceBlockNumber, int sourceSymbols, int receivedSymbols) {
    super(
        "source block "
            + (sourceBlockNumber < 0 ? "?" : Integer.toString(sourceBlockNumber))
            + " cannot be decoded: it has K="
            + sourceSymbols
            + " source symbols and only "
            + receivedSymbols
            + " received symbols determine too few of them; more symbols are needed");
    this.sourceBlockNumber = sourceBlockNumber;
    this.sourceSymbols = sourceSymbols;
    this.receivedSymbols = receivedSymbols;
  }

  /** The block's SBN, or -1 if unknown. */
  public int sourceBlockNumber() {
    return sourceBlockNumber;
  }

  /** K, the block's number of source symbols. */
  public int sourceSymbols() {
    return sourceSymbols;
  }

  /** How many distinct symbols the decoder had. */
  public int receivedSymbols() {
    return receivedSymbols;
  }

  /** The same failure, labelled with the block's SBN. */
  public UndecodableBlockException withBlock(int sbn) {
    UndecodableBlockException e = new UndecodableBlockException(sbn, sourceSymbols, receivedSymbols);
    e.setStackTrace(getStackTrace());
    return e;
  }
}
