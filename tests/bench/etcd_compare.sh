#!/usr/bin/env bash
# Durable writes: a single-member etcd (Debian's etcd-server) next to the SQLite backend's
# group commit, on the same disk. etcd listens on 127.0.0.1 only, on free ports, with a
# temporary data dir; everything is removed at the end and every step is time-bounded.
#
# etcd is measured twice: `etcdctl check perf --load=$ETCD_LOAD` (etcd's own check; with the
# default s, 50 clients at a
# fixed 150 writes/s for 60 s, so it reports latency at that rate, not a maximum), and W
# writers that each put a ~1 KiB JSON value and wait for the answer through etcd's HTTP/JSON
# gateway (a put returns after the raft entry is fsynced), like bench_store_sqlite's writers
# that append and waitDurable. The gateway client is Python: at high rates its overhead counts
# against etcd, so treat the 64-writer etcd figure as a lower bound.
#
#   tests/bench/etcd_compare.sh [BUILD_DIR] [SECONDS_PER_RUN]     (needs etcd-server etcd-client python3)

set -euo pipefail

BUILD=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
RUN_SECONDS=${2:-5}
WRITERS=${WRITERS:-1 8 64}
BENCH=$BUILD/tests/bench/bench_store_sqlite

for tool in etcd etcdctl python3; do
    command -v "$tool" >/dev/null || { echo "$tool not found (apt-get install etcd-server etcd-client python3)" >&2; exit 2; }
done
[ -x "$BENCH" ] || { echo "$BENCH not built (ninja -C $BUILD bench_store_sqlite)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/etcd_compare.XXXXXX)
ETCD_PID=
cleanup() {
    if [ -n "$ETCD_PID" ]; then
        kill "$ETCD_PID" 2>/dev/null || true
        wait "$ETCD_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# Two free loopback ports (the kernel picks them; released just before etcd binds them).
read -r CLIENT_PORT PEER_PORT < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
EOF
)
ENDPOINT=http://127.0.0.1:$CLIENT_PORT
PEER=http://127.0.0.1:$PEER_PORT

# Bounded even if this script is killed without running its trap.
timeout 900 etcd --name bench --data-dir "$WORK/etcd" \
    --listen-client-urls "$ENDPOINT" --advertise-client-urls "$ENDPOINT" \
    --listen-peer-urls "$PEER" --initial-advertise-peer-urls "$PEER" \
    --initial-cluster "bench=$PEER" --initial-cluster-state new \
    --log-level error >"$WORK/etcd.log" 2>&1 &
ETCD_PID=$!

for _ in $(seq 1 100); do
    if etcdctl --endpoints="$ENDPOINT" --dial-timeout=1s endpoint health >/dev/null 2>&1; then
        break
    fi
    kill -0 "$ETCD_PID" 2>/dev/null || { echo "etcd exited:" >&2; cat "$WORK/etcd.log" >&2; exit 1; }
    sleep 0.1
done
etcdctl --endpoints="$ENDPOINT" endpoint health

echo
ETCD_LOAD=${ETCD_LOAD:-s} # s, m, l or xl (xl: 1000 clients, up to 15,000 writes/s)
echo "== etcd $(etcd --version | head -1 | awk '{print $3}'): etcdctl check perf --load=$ETCD_LOAD (60 s)"
# Without its progress bar (redrawn with carriage returns).
timeout 120 etcdctl --endpoints="$ENDPOINT" check perf --load="$ETCD_LOAD" --auto-compact --auto-defrag 2>&1 \
    | tr '\r' '\n' | grep -Ev '^ *[0-9]+ / 60|^ *$' || true

echo
echo "== etcd: W writers, each put of ~1 KiB JSON then wait for the answer, ${RUN_SECONDS} s per W"
python3 - "$CLIENT_PORT" "$RUN_SECONDS" $WRITERS >"$WORK/etcd_writers.txt" <<'EOF'
import base64, http.client, json, sys, threading, time

port, seconds, writers = int(sys.argv[1]), float(sys.argv[2]), [int(w) for w in sys.argv[3:]]
payload = json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "cm", "namespace": "default", "labels": {"app": "bench"}},
                      "data": {"payload": "a" * 860}})

def b64(s):
    return base64.b64encode(s.encode()).decode()

for w in writers:
    latencies, lock, counter = [], threading.Lock(), [0]
    deadline = time.monotonic() + seconds

    def writer():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine = []
        while time.monotonic() < deadline:
            with lock:
                counter[0] += 1
                n = counter[0]
            body = json.dumps({"key": b64("/registry/configmaps/default/cm-%d" % (n % 5000)), "value": b64(payload)})
            start = time.monotonic()
            conn.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit("put failed: %d" % response.status)
            mine.append((time.monotonic() - start) * 1000)
        with lock:
            latencies.extend(mine)

    begin = time.monotonic()
    threads = [threading.Thread(target=writer) for _ in range(w)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - begin
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p * (len(latencies) - 1) + 0.5))] if latencies else 0
    print("%d %.0f %.2f %.2f" % (w, len(latencies) / elapsed, pick(0.5), pick(0.99)), flush=True)
EOF
cat "$WORK/etcd_writers.txt"

kill "$ETCD_PID" 2>/dev/null || true
wait "$ETCD_PID" 2>/dev/null || true
ETCD_PID=

echo
echo "== podscape SQLite backend: $BENCH --seconds $RUN_SECONDS --writers ${WRITERS// /,} --dir $WORK"
timeout 600 "$BENCH" --seconds "$RUN_SECONDS" --writers "${WRITERS// /,}" --dir "$WORK" | tee "$WORK/ours.txt"

echo
echo "== side by side (durable writes, ~1 KiB JSON each)"
printf "%8s | %12s %9s %9s | %12s %9s %9s\n" writers "etcd w/s" "p50 ms" "p99 ms" "podscape w/s" "p50 ms" "p99 ms"
while read -r w rate p50 p99; do
    ours=$(awk -v w="$w" '$1 == w && NF == 7 { print $2, $5, $6 }' "$WORK/ours.txt")
    read -r orate op50 op99 <<<"${ours:-- - -}"
    printf "%8s | %12s %9s %9s | %12s %9s %9s\n" "$w" "$rate" "$p50" "$p99" "$orate" "$op50" "$op99"
done <"$WORK/etcd_writers.txt"
