#!/usr/bin/env python3
"""C2 queue of the codec in a HotSpot compilation log (diagnosis only, not run by CI).

    RQ_BENCH_JVM_FLAGS="$FLAGS -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation \
        -XX:LogFile=/tmp/jit-%p.log" RQ_BENCH_CELLS=1/1280 benchmarks/codec-forks.sh 5 9
    benchmarks/jit-queue.py /tmp/jit-*.log

Per log: every C2 (tier 4) compilation of an io.runicquanta.codec method with the time it was
queued, installed and how long it waited; the number of C2 compilations of codec methods and their
wall time (all, and the plan builder's); the longest C2 tasks. Stamps are seconds since JVM start.
"""
import re
import sys

attr = lambda s: dict(re.findall(r"(\w+)='([^']*)'", s))


def short(m):
    return m.replace('io.runicquanta.codec.raptorq.', '').split(' (')[0]


for path in sys.argv[1:]:
    queued, rows, tasks, cur = {}, [], [], None
    for line in open(path, errors='replace'):
        if line.startswith('<task_queued'):
            a = attr(line)
            queued[a['compile_id']] = a
        elif line.startswith('<nmethod'):
            a = attr(line)
            if a.get('level') == '4' and a['compile_id'] in queued and 'io.runicquanta.codec' in a['method']:
                q = float(queued[a['compile_id']]['stamp'])
                rows.append((q, float(a['stamp']), short(a['method']), a.get('compile_kind', '')))
        elif line.startswith('<task '):
            cur = attr(line)
        elif line.startswith('<task_done') and cur:
            # C2 tasks carry no level attribute in the log; C1 tasks do
            if 'level' not in cur and 'io.runicquanta.codec' in cur.get('method', ''):
                tasks.append((float(attr(line)['stamp']) - float(cur['stamp']), float(cur['stamp']),
                              short(cur['method']) + (' osr' if 'osr_bci' in cur else '')))
            cur = None
    print('==', path)
    for q, d, m, k in rows:
        print('  queued %7.2f  installed %7.2f  waited %5.2f  %s %s' % (q, d, d - q, m, k))
    pb = [t for t in tasks if 'Plan' in t[2]]
    print('  C2 compilations of codec methods: %d, %.2f s; of the plan builder: %d, %.2f s'
          % (len(tasks), sum(t[0] for t in tasks), len(pb), sum(t[0] for t in pb)))
    print('  longest:', ', '.join('%s %.2f s at %.1f' % (t[2], t[0], t[1])
                                  for t in sorted(tasks, reverse=True)[:6]))
