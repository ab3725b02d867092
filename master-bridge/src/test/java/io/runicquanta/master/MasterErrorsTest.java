package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MasterErrorsTest {

  @Test
  void everyKindMapsToItsCode() {
    for (MasterException.Kind k : MasterException.Kind.values()) {
      Status s = MasterErrors.toStatus(new MasterException(k, "because " + k));
      assertEquals(k.name(), s.getCode().name());
      assertEquals("because " + k, s.getDescription());
    }
    assertEquals(Status.Code.INVALID_ARGUMENT,
        MasterErrors.toStatus(new IllegalArgumentException("x = 1, expected 2")).getCode());
    assertEquals(Status.Code.UNAVAILABLE,
        MasterErrors.toStatus(new org.apache.ignite.IgniteException("node left")).getCode());
    assertEquals(Status.Code.INTERNAL, MasterErrors.toStatus(new NullPointerException()).getCode());
  }

  @Test
  void longDescriptionsKeepStartAndEndWithinTheTrailerLimit() {
    String key = "\ud83d\ude00".repeat(256); // 1024 UTF-8 bytes, 12 bytes each once percent-encoded
    String msg = "object '" + key + "' needs 5 bytes; object '" + key + "' again; expected 3 nodes";
    Status s = MasterErrors.toStatus(MasterException.exhausted(msg));
    String d = s.getDescription();
    assertTrue(d.length() <= MasterErrors.MAX_DESCRIPTION, "length " + d.length());
    assertTrue(d.startsWith("object '"), d);
    assertTrue(d.endsWith("expected 3 nodes"), d);
    assertTrue(d.getBytes(StandardCharsets.UTF_8).length * 3 < 8192 - 512,
        "percent-encoded description must fit an 8 KiB header list");
  }
}
