package io.runicquanta.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Settings: defaults, range checks that name the setting, and equality over every field. */
class MasterConfigTest {

  @Test
  void commitConcurrencyDefaultsToTwoAndIsRangeChecked() {
    MasterConfig d = MasterConfig.builder().build();
    assertEquals(2, d.commitConcurrency());
    assertEquals(4, MasterConfig.builder().commitConcurrency(4).build().commitConcurrency());
    for (int bad : new int[] {0, -1, 17}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> MasterConfig.builder().commitConcurrency(bad));
      assertTrue(e.getMessage().contains("commitConcurrency = " + bad + ", expected 1..16"), e.getMessage());
    }
    // part of the service's identity: nodes configured differently are told apart
    assertNotEquals(d, MasterConfig.builder().commitConcurrency(1).build());
    assertEquals(d, MasterConfig.builder().build());
    assertTrue(d.toString().contains("commitConcurrency=2"), d.toString());
  }
}
