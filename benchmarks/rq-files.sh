#!/usr/bin/env bash
# End-to-end benchmark of `rq encode` / `rq decode` on files (not run by CI or the test suite).
#
#   benchmarks/rq-files.sh [SIZE...]        SIZE like 256M, 1G, 4G (default: 256M 1G 4G)
#
# Environment: RQ_BENCH_DIR (work directory, default ./bench-out/rq-files, needs about 4x the largest
# size free), RQ_BENCH_REDUNDANCY (default 2), RQ_BENCH_THREADS (default: all CPUs).
# For each size it measures, in the same run: the baselines `cp` (disk copy) and `cat > /dev/null`
# (read), then rq encode and rq decode (wall time, and the peak RSS each JVM reports from
# /proc/self/status VmHWM), checks the decoded file with cmp, and prints one table with ratios
# against the copy baseline, and the CPU seconds (user + sys) of each rq run, which a busy machine
# disturbs far less than the wall time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RQ="$ROOT/rq"
WORK="${RQ_BENCH_DIR:-$ROOT/bench-out/rq-files}"
RED="${RQ_BENCH_REDUNDANCY:-2}"
THREADS="${RQ_BENCH_THREADS:-$(nproc)}"
SIZES=("$@")
[ ${#SIZES[@]} -eq 0 ] && SIZES=(256M 1G 4G)
mkdir -p "$WORK"
[ -f "$ROOT/grid-plugin/target/rq.jar" ] || "$RQ" --version >/dev/null

now() { date +%s.%N; }
bytes_of() { numfmt --from=iec "$1"; }
rows=()
row() { rows+=("$(printf '%-6s %-26s %9.2f %9.1f %10s %8s %9s' "$@")"); }
# Runs a command, leaving its combined output in $out and its CPU seconds (user + sys) in $cpu.
TIMEFORMAT='%U %S'
timed() {
  local tf; tf=$(mktemp)
  { time out=$("$@" 2>&1); } 2> "$tf"
  cpu=$(awk '{printf "%.1f", $1 + $2}' "$tf"); rm -f "$tf"
}

for size in "${SIZES[@]}"; do
  n=$(bytes_of "$size")
  d="$WORK/$size"
  rm -rf "$d"; mkdir -p "$d"
  echo "== $size ($n bytes): generating input" >&2
  head -c "$n" /dev/urandom > "$d/in.bin"
  sync

  t0=$(now); cp "$d/in.bin" "$d/copy.bin"; sync; t1=$(now)
  cp_s=$(echo "$t1 - $t0" | bc -l); rm -f "$d/copy.bin"
  row "$size" "baseline: cp + sync" "$cp_s" "$(echo "$n / 1000000 / $cp_s" | bc -l)" "-" "1.0" "-"
  t0=$(now); cat "$d/in.bin" > /dev/null; t1=$(now)
  cat_s=$(echo "$t1 - $t0" | bc -l)
  row "$size" "baseline: cat > /dev/null" "$cat_s" "$(echo "$n / 1000000 / $cat_s" | bc -l)" "-" "$(printf '%.2f' "$(echo "$cat_s / $cp_s" | bc -l)")" "-"

  echo "== $size: rq encode --redundancy $RED" >&2
  t0=$(now)
  timed "$RQ" encode "$d/in.bin" "$d/enc" --redundancy "$RED" --threads "$THREADS" --report-rss
  sync; t1=$(now)
  echo "$out" >&2
  enc_s=$(echo "$t1 - $t0" | bc -l)
  enc_rss=$(echo "$out" | sed -n 's/.*VmHWM) \([0-9]*\) kB.*/\1/p')
  row "$size" "rq encode (r=$RED) + sync" "$enc_s" "$(echo "$n / 1000000 / $enc_s" | bc -l)" "$((enc_rss / 1024)) MiB" "$(printf '%.1f' "$(echo "$enc_s / $cp_s" | bc -l)")" "$cpu"
  files=$(find "$d/enc" -type f | wc -l); encbytes=$(du -sb "$d/enc" | cut -f1)
  echo "   $files symbol files, $encbytes bytes" >&2

  echo "== $size: rq decode" >&2
  t0=$(now)
  timed "$RQ" decode "$d/enc" "$d/out.bin" --threads "$THREADS" --report-rss
  sync; t1=$(now)
  echo "$out" >&2
  dec_s=$(echo "$t1 - $t0" | bc -l)
  dec_rss=$(echo "$out" | sed -n 's/.*VmHWM) \([0-9]*\) kB.*/\1/p')
  row "$size" "rq decode + sync" "$dec_s" "$(echo "$n / 1000000 / $dec_s" | bc -l)" "$((dec_rss / 1024)) MiB" "$(printf '%.1f' "$(echo "$dec_s / $cp_s" | bc -l)")" "$cpu"
  cmp "$d/in.bin" "$d/out.bin" && echo "   decoded file identical" >&2
  rm -rf "$d"
done

echo
echo "rq files benchmark, $(date -u +%FT%TZ), $(nproc) CPUs, threads $THREADS, redundancy $RED, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-26s %9s %9s %10s %8s %9s\n' size job "wall s" "MB/s" "peak RSS" "x cp" "CPU s"
printf '%s\n' "${rows[@]}"
