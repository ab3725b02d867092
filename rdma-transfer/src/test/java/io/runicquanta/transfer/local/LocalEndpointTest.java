package io.runicquanta.transfer.local;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The allocation-free parser of {@code local:<id>:<rail>} endpoint addresses. */
class LocalEndpointTest {
  static long parse(String s) {
    return LocalTransport.parseEndpoint(s.getBytes(StandardCharsets.US_ASCII));
  }

  @Test
  void parsesIdAndRail() {
    assertEquals(7L << 8 | 3, parse("local:7:3"));
    assertEquals(123456789012L << 8 | 63, parse("local:123456789012:63"));
  }

  @Test
  void rejectsAnythingElse() {
    for (String bad : new String[] {"", "local:", "local:1", "local:1:", "local::1", "locak:1:2", "local:1:2:3",
        "local:x:1", "local:1:y", "local:1:65", "local:1:-1", "tcp:1.2.3.4:5", "local:12345678901234567:1"}) {
      assertEquals(-1, parse(bad), bad);
    }
  }
}
