package io.runicquanta.transfer;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * Where and how one rail of a peer reaches a registered segment: the transport's endpoint address
 * (opaque bytes: {@code host:port} for tcp, a libfabric endpoint name for fabric, an engine id for
 * local), the registration key the target checks (a libfabric memory key, or the segment's
 * registration number) and the base address remote offsets are added to (non-zero only for
 * libfabric providers in {@code FI_MR_VIRT_ADDR} mode). Immutable and thread safe.
 */
public final class RailEndpoint {
  private final byte[] address;
  private final long key;
  private final long baseAddress;

  /**
   * @param address the transport's endpoint address; copied
   * @param key the registration key of the segment on this rail
   * @param baseAddress added to the segment offset to form the remote address (0 when offsets are
   *     used as is)
   * @throws IllegalArgumentException if {@code address} is empty or longer than 4096 bytes
   */
  public RailEndpoint(byte[] address, long key, long baseAddress) {
    if (address == null || address.length == 0 || address.length > 4096) {
      throw new IllegalArgumentException(
          "rail endpoint address length must be 1..4096 bytes, got "
              + (address == null ? "null" : address.length));
    }
    this.address = address.clone();
    this.key = key;
    this.baseAddress = baseAddress;
  }

  /** A copy of the transport's endpoint address. */
  public byte[] address() {
    return address.clone();
  }

  /** The registration key the target checks. */
  public long key() {
    return key;
  }

  /** Base address remote offsets are added to. */
  public long baseAddress() {
    return baseAddress;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RailEndpoint r
        && key == r.key
        && baseAddress == r.baseAddress
        && Arrays.equals(address, r.address);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(address) * 31 + Long.hashCode(key) * 17 + Long.hashCode(baseAddress);
  }

  @Override
  public String toString() {
    boolean printable = true;
    for (byte b : address) {
      printable &= b >= 0x20 && b < 0x7f;
    }
    String a = printable ? new String(address, java.nio.charset.StandardCharsets.US_ASCII)
        : HexFormat.of().formatHex(address);
    return "RailEndpoint[" + a + ", key=" + key + ", base=0x" + Long.toHexString(baseAddress) + "]";
  }
}
