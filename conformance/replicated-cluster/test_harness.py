"""The checks of harness.py on hand-made results: each accepts a correct run and rejects a wrong one (a
check that cannot fail proves nothing). run.sh runs this first; so does npm test
(test/conformance/replicated-cluster-harness.test.ts). Needs python3 only: no client, no cluster.
Prints `ok   accepts|rejects CASE` or `FAIL ...` per case; exits 1 on any FAIL."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check_group, verify_log  # noqa: E402

failures = 0


def case(kind, name, problems):
    global failures
    good = (not problems) if kind == 'accepts' else bool(problems)
    print(f'{"ok  " if good else "FAIL"} {kind} {name}' + ('' if good else f': {problems}'))
    failures += not good


# verify_log: 3 partitions, 30 records, record n at partition n % 3, offset n // 3
COUNT, P = 30, 3


def log_of(ns_by_partition):
    return {p: list(enumerate(ns)) for p, ns in ns_by_partition.items()}


good_log = {p: [n for n in range(COUNT) if n % P == p] for p in range(P)}
acked = {n: (n % P, n // P) for n in range(COUNT)}


def run_verify(ns_by_partition, acks):
    problems = []
    verify_log(log_of(ns_by_partition), acks, COUNT, P, problems)
    return problems


case('accepts', 'every acknowledged record once at its offset', run_verify(good_log, acked))
unacked_tail = {n: a for n, a in acked.items() if n < 27}
case('accepts', 'records in the log that were never acknowledged (their answer lost)', run_verify(good_log, unacked_tail))
lost = {p: list(ns) for p, ns in good_log.items()}
lost[1].remove(13)
case('rejects', 'an acknowledged record missing', run_verify(lost, {n: a for n, a in acked.items() if n <= 13}))
dup = {p: list(ns) for p, ns in good_log.items()}
dup[2].insert(4, 11)
case('rejects', 'an acknowledged record written twice', run_verify(dup, {n: a for n, a in acked.items() if n <= 11}))
swapped = {p: list(ns) for p, ns in good_log.items()}
swapped[0][2], swapped[0][3] = swapped[0][3], swapped[0][2]
case('rejects', 'two records of a partition out of order', run_verify(swapped, {}))
moved = dict(acked)
moved[4] = (1, 0)
case('rejects', 'a record acknowledged at an offset holding another (kafkajs sequence rollback)', run_verify(good_log, moved))
stray = {p: list(ns) for p, ns in good_log.items()}
stray[0].append(31)
case('rejects', 'a value never sent', run_verify(stray, {}))
wrong_partition = {p: list(ns) for p, ns in good_log.items()}
wrong_partition[0].append(29)
case('rejects', 'a value in a partition it was not sent to', run_verify(wrong_partition, {}))

# check_group: 2 partitions, 4 records each (value = partition + 2 * offset); times in ns
GP, GCOUNT, RESTART = 2, 8, 1000


def run_group(members):
    problems = []
    check_group([[line + '\n' for line in m] for m in members], GCOUNT, GP, RESTART, problems)
    return problems


m0 = ['A 1 [0]', 'P 10 0 0 0', 'P 11 0 1 2', 'C 12 0 2', 'P 1100 0 2 4', 'P 1101 0 3 6', 'C 1102 0 4']
m1 = ['A 1 [1]', 'P 10 1 0 1', 'P 11 1 1 3', 'P 12 1 2 5', 'P 13 1 3 7', 'E 14 commit [(1, 4)]: coordinator gone', 'C 1200 1 4']
case('accepts', 'two members, one commit failing then succeeding after the restart', run_group([m0, m1]))
m1_again = ['A 1 [1]', 'P 10 1 0 1', 'P 11 1 1 3', 'E 14 commit failed', 'R 15 [1]']
m2 = ['A 20 [1]', 'P 30 1 0 1', 'P 31 1 1 3', 'P 32 1 2 5', 'P 33 1 3 7', 'C 1200 1 4']
case('accepts', 'records processed again by the next owner after a failed commit', run_group([m0, m1_again, m2]))
m2_bad = ['A 20 [1]', 'P 1300 1 3 7']
case('rejects', 'a record processed again after its offset was committed', run_group([m0, m1, m2_bad]))
m1_gap = ['A 1 [1]', 'P 10 1 0 1', 'P 11 1 1 3', 'P 13 1 3 7', 'C 1200 1 4']
case('rejects', 'a record never processed (committed past it)', run_group([m0, m1_gap]))
m0_early = ['A 1 [0]', 'P 10 0 0 0', 'P 11 0 1 2', 'P 12 0 2 4', 'P 13 0 3 6', 'C 14 0 4']
m1_early = ['A 1 [1]', 'P 10 1 0 1', 'P 11 1 1 3', 'P 12 1 2 5', 'P 13 1 3 7', 'C 14 1 4']
case('rejects', 'no commit succeeded after the coordinator came back', run_group([m0_early, m1_early]))
m1_cross = ['A 1 [1]', 'P 10 1 0 1', 'P 11 1 1 3', 'P 12 1 2 5', 'P 13 1 3 7', 'C 1200 1 4', 'C 1201 0 3']
m0_after = ['A 1 [0]', 'P 10 0 0 0', 'P 11 0 1 2', 'C 12 0 2', 'P 1100 0 2 4', 'P 1300 0 2 4', 'P 1301 0 3 6', 'C 1302 0 4']
case('rejects', "a record processed after another member's commit covered it", run_group([m0_after, m1_cross]))

sys.exit(1 if failures else 0)
