#!/usr/bin/env bash
# Codec speed with every cell in fresh JVMs (forks, as JMH does), not run by CI or the test suite.
#
#   benchmarks/codec-forks.sh [FORKS] [RUNS]      (defaults 3 and 9)
#
# Runs `CpuTimeSpeed RUNS` once per cell (-Dcells=<MiB>/<T>) in FORKS separate JVMs and prints, per
# cell, the median over the forks of each column (MB/s of object per thread-CPU second, plan built
# from scratch; the XOR of the same bytes as the physical baseline of the same JVM), next to the best
# native figure per core of ../shared/BASELINES.md (Rust raptorq 2.0.1 or nanorq) and the ratio.
# Why forks: in one JVM the cells share the JIT's history, and which cell's profile a kernel was
# compiled with (or whether a deoptimised kernel got back to C2 before the timed runs) moved single
# operations by 2-4x from one JVM to the next (arrow-codec/README.md, "per-JVM spread"); the median
# of fresh JVMs per cell is the figure that repeats.
#
# Environment: RQ_BENCH_JAR (default benchmarks/target/benchmarks.jar, built with
# `mvn -Pbench -pl benchmarks -am package -DskipTests`), RQ_BENCH_JVM_FLAGS (default: the parent
# pom's rq.jvm.flags), RQ_BENCH_CELLS (default all six: 1/1280,16/1280,64/1280,1/65532,16/65532,64/65532).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FORKS="${1:-3}"
RUNS="${2:-9}"
JAR="${RQ_BENCH_JAR:-$ROOT/benchmarks/target/benchmarks.jar}"
[ -f "$JAR" ] || { echo "codec-forks: $JAR is missing (build it: mvn -Pbench -pl benchmarks -am package -DskipTests)" >&2; exit 2; }
FLAGS="${RQ_BENCH_JVM_FLAGS:-$(cd "$ROOT" && mvn -q -ntp help:evaluate -Dexpression=rq.jvm.flags -DforceStdout 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g')}"
IFS=, read -r -a CELLS <<< "${RQ_BENCH_CELLS:-1/1280,16/1280,64/1280,1/65532,16/65532,64/65532}"

# best native MB/s per core (encode decode), BASELINES.md
native() {
  case "$1" in
    1/1280) echo "444 455" ;; 16/1280) echo "155 141" ;; 64/1280) echo "85 80" ;;
    1/65532) echo "474 454" ;; 16/65532) echo "422 460" ;; 64/65532) echo "237 211" ;;
    *) echo "0 0" ;;
  esac
}

echo "codec-forks: $FORKS forks x $RUNS runs per cell, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
out=()
for cell in "${CELLS[@]}"; do
  mib=${cell%/*}
  t=${cell#*/}
  label="$mib MiB / $t"
  rows=""
  for ((f = 1; f <= FORKS; f++)); do
    # shellcheck disable=SC2086
    line=$(java -Xms2g -Xmx2g -XX:+AlwaysPreTouch $FLAGS -Dcells="$cell" -cp "$JAR" \
        io.runicquanta.bench.codec.CpuTimeSpeed "$RUNS" 2>/dev/null | grep -F "| $label |" | tail -1)
    [ -n "$line" ] || { echo "codec-forks: no result for $label (fork $f)" >&2; exit 1; }
    echo "  fork $f: $line"
    rows+="$line"$'\n'
  done
  read -r nenc ndec <<< "$(native "$cell")"
  # columns of CpuTimeSpeed: | cell | XOR | encode | x XOR | decode | x XOR | encode cached | decode cached |
  med=$(printf '%s' "$rows" | awk -F'|' -v n="$FORKS" '
    { for (c = 3; c <= 9; c++) { gsub(/ /, "", $c); v[c, NR] = $c } }
    END {
      for (c = 3; c <= 9; c++) {
        for (i = 1; i <= n; i++) a[i] = v[c, i] + 0
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
        m[c] = (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      printf "%s %s %s %s %s", m[3], m[4], m[6], m[8], m[9]
    }')
  read -r xor enc dec cenc cdec <<< "$med"
  encs=$(printf '%s' "$rows" | awk -F'|' '{ gsub(/ /, "", $4); printf "%s%s", sep, $4; sep = ", " }')
  decs=$(printf '%s' "$rows" | awk -F'|' '{ gsub(/ /, "", $6); printf "%s%s", sep, $6; sep = ", " }')
  out+=("$(awk -v l="$label" -v x="$xor" -v e="$enc" -v d="$dec" -v ne="$nenc" -v nd="$ndec" \
      -v ce="$cenc" -v cd="$cdec" -v es="$encs" -v ds="$decs" 'BEGIN {
      printf "| %s | %.0f | %.0f (%s) | %.0f (%s) | %d / %d | %.2f | %.2f | %.0f / %.0f |", l, x, e, es, d, ds, ne, nd,
          ne ? e / ne : 0, nd ? d / nd : 0, ce, cd }')")
done
echo
echo "Median of $FORKS fresh JVMs per cell (forks' figures in brackets), MB/s of object per thread-CPU second, plan from scratch; load at end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| object / T | XOR | encode | decode | native encode / decode | encode / native | decode / native | cached plan encode / decode |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${out[@]}"
