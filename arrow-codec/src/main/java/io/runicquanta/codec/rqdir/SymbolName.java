package io.runicquanta.codec.rqdir;

import org.apache.commons.codec.digest.Blake3;

/** Names of symbol files and block hashes: base58 of the BLAKE3-256 digest. Stateless. */
public final class SymbolName {
  private SymbolName() {}

  /** base58(BLAKE3-256(data[offset, offset+length))). */
  public static String of(byte[] data, int offset, int length) {
    Blake3 h = Blake3.initHash();
    h.update(data, offset, length);
    return Base58.encode(h.doFinalize(32));
  }

  /** base58(BLAKE3-256(data)). */
  public static String of(byte[] data) {
    return of(data, 0, data.length);
  }

  /** base58 of a finished hasher's 32-byte digest. */
  public static String of(Blake3 hasher) {
    return Base58.encode(hasher.doFinalize(32));
  }
}
