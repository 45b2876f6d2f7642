"""Prints the broker's trace (samsa.protocol.trace=true, pino JSON lines) from line START on, compactly:
first every request/response or log line that carries an error (a non-zero errorCode anywhere in it, or a
warn/error level), then the last lines. Usage: trace-excerpt.py LOG START [MAX_ERRORS] [TAIL]"""
import json
import re
import sys

log, start = sys.argv[1], int(sys.argv[2])
max_errors = int(sys.argv[3]) if len(sys.argv) > 3 else 15
tail = int(sys.argv[4]) if len(sys.argv) > 4 else 25
WIDTH = 500
ERR = re.compile(r'"(errorCode|error_code)":(-?[1-9][0-9]*)')


def compact(raw):
    try:
        d = json.loads(raw)
    except ValueError:
        return raw.rstrip()[:WIDTH]
    head = []
    if 'conn' in d:
        head.append(f"conn {d['conn']}")
    if 'api' in d:
        head.append(f"{d['api']} v{d.get('version')} #{d.get('correlationId')}")
    kind = 'request' if 'request' in d else 'response' if 'response' in d else None
    if kind:
        body = json.dumps(d[kind], separators=(',', ':'))
        if 'clientId' in d:
            head.append(f"client {d['clientId']}")
        text = ' '.join(head) + f' {kind} ' + body
    else:
        level = {10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL'}.get(d.get('level'), '?')
        rest = {k: v for k, v in d.items() if k not in ('level', 'time', 'name', 'pid', 'hostname')}
        text = ' '.join(head) + f' [{level}] ' + json.dumps(rest, separators=(',', ':'))
    return text.strip()[:WIDTH]


with open(log, errors='replace') as f:
    lines = f.readlines()[start:]
if not lines:
    print('(the broker logged nothing during this check: the client never reached it?)')
    sys.exit(0)
conns = sorted({json.loads(l).get('conn') for l in lines if l.startswith('{') and '"conn"' in l} - {None})
print(f'{len(lines)} lines, connections {conns}')
# 79 MEMBER_ID_REQUIRED is the normal first JoinGroup answer, not a failure
errors = [l for l in lines if (ERR.search(l) and not re.search(r'"errorCode":79[,}]', l)) or '"level":40' in l or '"level":50' in l or '"level":60' in l]
if errors:
    print(f'-- lines with an error ({len(errors)}, first {max_errors}):')
    for l in errors[:max_errors]:
        print(compact(l))
# the tail, with repeated request/response pairs (a consumer's empty Fetch polls) folded
out, recent, folded = [], [], 0
for l in lines:
    text = compact(l)
    sig = re.sub(r'#\d+', '#', text)
    if sig in recent:
        folded += 1
        continue
    if folded:
        out.append(f'   ... {folded} similar lines')
        folded = 0
    out.append(text)
    recent = (recent + [sig])[-4:]
if folded:
    out.append(f'   ... {folded} similar lines')
print(f'-- last {min(tail, len(out))} lines (repeats folded):')
for t in out[-tail:]:
    print(t)
