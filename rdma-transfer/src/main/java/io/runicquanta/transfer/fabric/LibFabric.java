package io.runicquanta.transfer.fabric;

import com.sun.jna.Function;
import com.sun.jna.Library;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The native side of the {@code fabric} transport: the few functions libfabric exports ({@code
 * fi_getinfo}, {@code fi_dupinfo}, {@code fi_freeinfo}, {@code fi_fabric}, {@code fi_strerror}, {@code
 * fi_version}) bound with JNA, plus calls through the ops tables for everything the headers define as
 * static inline ({@code fi_domain}, {@code fi_endpoint}, {@code fi_mr_reg}, {@code fi_write}, {@code
 * fi_cq_read} ...): the object's {@code ops} pointer is read at its offset and the function pointer at
 * its slot is called with {@link Function}.
 *
 * <p>Offsets and constants are those of libfabric 1.x's ABI on LP64 (x86_64, aarch64), taken from
 * {@code rdma/fabric.h}, {@code fi_domain.h}, {@code fi_endpoint.h}, {@code fi_rma.h}, {@code
 * fi_eq.h}, {@code fi_cm.h} of 1.17 and checked with {@code offsetof}. libfabric keeps these
 * layouts stable within ABI 1.x (new fields only at the end), and we ask for API version 1.17.
 *
 * <p>Availability is probed once ({@link #unavailabilityCause()}), as netty's {@code Epoll} does:
 * loading the library and calling {@code fi_version}. A missing library is reported with the cause
 * and never replaced by a fallback.
 */
final class LibFabric {
  private LibFabric() {}

  /** The C library's {@code sigaction}, to keep the JVM's fault handlers (see {@link #keepingJvmSignalHandlers}). */
  interface LibC extends Library {
    int sigaction(int signum, Pointer action, Pointer oldAction);
  }

  private static final int SIGBUS = 7;
  private static final int SIGSEGV = 11;
  /** Larger than {@code struct sigaction} of glibc on x86_64 and aarch64 (152 bytes). */
  private static final int SIGACTION_BYTES = 256;
  private static final LibC LIBC;
  /** The JVM's SIGSEGV and SIGBUS actions, read before libfabric is loaded. */
  private static final Memory JVM_SEGV = zeroed(SIGACTION_BYTES);
  private static final Memory JVM_BUS = zeroed(SIGACTION_BYTES);


  // fabric.h / fi_*.h constants (libfabric 1.17)
  static final int FI_VERSION_1_17 = (1 << 16) | 17;
  static final long FI_RMA = 1L << 2;
  static final long FI_READ = 1L << 8;
  static final long FI_WRITE = 1L << 9;
  static final long FI_RECV = 1L << 10;
  static final long FI_TRANSMIT = 1L << 11;
  static final long FI_REMOTE_READ = 1L << 12;
  static final long FI_REMOTE_WRITE = 1L << 13;
  static final long FI_COMPLETION = 1L << 24;
  static final long FI_DELIVERY_COMPLETE = 1L << 28;
  static final long FI_SOURCE = 1L << 57;
  static final long FI_CONTEXT = 1L << 59;
  static final long FI_CONTEXT2 = 1L << 52;
  static final int FI_EP_RDM = 3;
  static final int FI_MR_LOCAL = 1 << 2;
  static final int FI_MR_VIRT_ADDR = 1 << 4;
  static final int FI_MR_ALLOCATED = 1 << 5;
  static final int FI_MR_PROV_KEY = 1 << 6;
  static final int FI_MR_ENDPOINT = 1 << 9;
  static final int FI_CQ_FORMAT_CONTEXT = 1;
  static final int FI_ENABLE = 6;
  static final int FI_EAGAIN = 11;
  static final int FI_EAVAIL = 259;

  // struct offsets (LP64)
  static final int INFO_CAPS = 8;
  static final int INFO_MODE = 16;
  static final int INFO_TX_ATTR = 72;
  static final int INFO_EP_ATTR = 88;
  static final int INFO_DOMAIN_ATTR = 96;
  static final int INFO_FABRIC_ATTR = 104;
  static final int TX_ATTR_OP_FLAGS = 16;
  static final int TX_ATTR_SIZE = 48;
  static final int EP_ATTR_TYPE = 0;
  static final int DOMAIN_ATTR_MR_MODE = 36;
  static final int FABRIC_ATTR_PROV_NAME = 16;
  static final int FID_OPS = 16; // struct fid { size_t fclass; void *context; struct fi_ops *ops; }
  static final int OBJ_OPS = 24; // fid_fabric/fid_domain/fid_cq/fid_av: ops after struct fid
  static final int DOMAIN_MR_OPS = 32;
  static final int EP_CM_OPS = 32;
  static final int EP_RMA_OPS = 48;
  static final int MR_DESC = 24;
  static final int MR_KEY = 32;
  static final int OPS_CLOSE = 8; // fi_ops
  static final int OPS_BIND = 16;
  static final int OPS_CONTROL = 24;
  static final int FABRIC_DOMAIN = 8; // fi_ops_fabric
  static final int DOMAIN_AV_OPEN = 8; // fi_ops_domain
  static final int DOMAIN_CQ_OPEN = 16;
  static final int DOMAIN_ENDPOINT = 24;
  static final int MR_REG = 8; // fi_ops_mr
  static final int CM_GETNAME = 16; // fi_ops_cm
  static final int RMA_READ = 8; // fi_ops_rma
  static final int RMA_WRITE = 32;
  static final int CQ_READ = 8; // fi_ops_cq
  static final int CQ_READERR = 24;
  static final int CQ_STRERROR = 56;
  static final int AV_INSERT = 8; // fi_ops_av
  static final int CQ_ATTR_SIZE = 40;
  static final int CQ_ATTR_FORMAT = 16;
  static final int AV_ATTR_SIZE = 48;
  static final int CQ_ERR_ENTRY_SIZE = 80;
  static final int CQ_ERR_OP_CONTEXT = 0;
  static final int CQ_ERR_ERR = 56;
  static final int CQ_ERR_PROV_ERRNO = 60;
  static final int CQ_ERR_DATA = 64;

  /** The exported functions. */
  interface Api extends Library {
    int fi_getinfo(int version, String node, String service, long flags, Pointer hints, PointerByReference info);

    Pointer fi_dupinfo(Pointer info);

    void fi_freeinfo(Pointer info);

    int fi_fabric(Pointer attr, PointerByReference fabric, Pointer context);

    String fi_strerror(int errnum);

    int fi_version();
  }

  private static final Api API;
  private static final Throwable UNAVAILABILITY_CAUSE;
  private static final ConcurrentHashMap<Long, Function> FUNCTIONS = new ConcurrentHashMap<>();

  static {
    LibC libc = null;
    try {
      libc = Native.load("c", LibC.class);
      if (libc.sigaction(SIGSEGV, null, JVM_SEGV) != 0 || libc.sigaction(SIGBUS, null, JVM_BUS) != 0) {
        libc = null;
      }
    } catch (Throwable t) {
      libc = null;
    }
    LIBC = libc;
    Api api = null;
    Throwable cause = null;
    for (String name : new String[] {"fabric", "libfabric.so.1"}) {
      try {
        api = Native.load(name, Api.class);
        int v = api.fi_version();
        if ((v >>> 16) != 1 || (v & 0xFFFF) < 17) {
          throw new UnsatisfiedLinkError("libfabric " + (v >>> 16) + "." + (v & 0xFFFF)
              + " found, 1.x with x >= 17 needed");
        }
        cause = null;
        break;
      } catch (Throwable t) {
        api = null;
        if (cause == null) {
          cause = t;
        } else {
          cause.addSuppressed(t);
        }
      }
    }
    API = api;
    UNAVAILABILITY_CAUSE = api == null
        ? new UnsatisfiedLinkError("libfabric (libfabric.so.1) cannot be loaded: " + cause.getMessage()
            + " (Debian/Ubuntu: apt-get install libfabric1)")
        : null;
    if (UNAVAILABILITY_CAUSE != null) {
      UNAVAILABILITY_CAUSE.initCause(cause);
    }
  }

  /** Null when libfabric loaded, else why not. */
  static Throwable unavailabilityCause() {
    return UNAVAILABILITY_CAUSE;
  }

  /** The exported functions. */
  static Api api() {
    if (API == null) {
      throw new IllegalStateException("libfabric is unavailable", UNAVAILABILITY_CAUSE);
    }
    return API;
  }

  /** The function at {@code slot} of the ops table that {@code object} points to at {@code opsOffset}. */
  static Function fn(Pointer object, int opsOffset, int slot) {
    Pointer ops = object.getPointer(opsOffset);
    long fp = Pointer.nativeValue(ops.getPointer(slot));
    if (fp == 0) {
      throw new IllegalStateException("libfabric provider does not implement ops slot " + slot);
    }
    return FUNCTIONS.computeIfAbsent(fp, k -> Function.getFunction(new Pointer(k)));
  }


  /**
   * Runs {@code call} (a libfabric call that may initialise a provider) and then puts back the JVM's
   * {@code SIGSEGV} and {@code SIGBUS} handlers, as they were before libfabric was loaded.
   *
   * <p>Why: the {@code shm} provider of libfabric 1.17 installs its own handlers for {@code SIGSEGV},
   * {@code SIGBUS}, {@code SIGTERM} and {@code SIGINT} ({@code smr_reg_sig_handler}); on a signal
   * they unlink every shared-memory region of the process ({@code /dev/shm/<pid>:<uid>:<endpoint>}),
   * reinstall the previous handler and raise the signal again. A JVM takes {@code SIGSEGV} in normal
   * operation (implicit null checks, safepoint polls), so the first such fault in the target process
   * deleted its regions' names: an initiator that had not yet mapped the region then failed in {@code
   * shm_open} ({@code smr_map_to_region}: ENOENT) for good, and every {@code fi_write}/{@code fi_read}
   * to that peer returned {@code -FI_EAGAIN} forever (measured: the file disappears after one caught
   * {@code NullPointerException} in compiled code; {@code ShmSignalTest}). The JVM's fault handlers
   * must stay first; {@code SIGTERM}/{@code SIGINT} are left to shm, whose handler unlinks the
   * regions and then hands the signal to the JVM, which exits.
   */
  static <T> T keepingJvmSignalHandlers(java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } finally {
      restoreJvmSignalHandlers();
    }
  }

  private static synchronized void restoreJvmSignalHandlers() {
    if (LIBC != null && (LIBC.sigaction(SIGSEGV, JVM_SEGV, null) != 0 || LIBC.sigaction(SIGBUS, JVM_BUS, null) != 0)) {
      throw new IllegalStateException("restoring the JVM's SIGSEGV/SIGBUS handlers failed: errno "
          + Native.getLastError());
    }
  }

  /** {@code fi_close(fid)}. */
  static int close(Pointer fid) {
    return fn(fid, FID_OPS, OPS_CLOSE).invokeInt(new Object[] {fid});
  }

  /** Message for a negative libfabric return code. */
  static String error(long rc) {
    int e = (int) -rc;
    return API.fi_strerror(e) + " (" + rc + ")";
  }

  /** A malloc'd copy of {@code s} that {@code fi_freeinfo} may free. */
  static Pointer strdup(String s) {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Pointer p = new Pointer(Native.malloc(b.length + 1));
    p.write(0, b, 0, b.length);
    p.setByte(b.length, (byte) 0);
    return p;
  }

  /** Zeroed native memory that the GC frees (keep it reachable while native code uses it). */
  static Memory zeroed(long size) {
    Memory m = new Memory(size);
    m.clear();
    return m;
  }
}
