#!/usr/bin/env bash
# tests/bench/large-ledger.sh N: rows 23-27 and 31 of docs/performance.md. Builds a ledger of N records
# with salvage-load build-ledger (BENCH_DIR, default /tmp/salvage-bench), starts salvage node on it
# (127.0.0.1:8080) and measures its first answer, memory, background check, page views and
# inclusion proofs (64 clients each), then audits the data directory, and audits the same records
# again streamed and held in memory (AUDIT_IN_MEMORY records, default 2,000,000: ten million
# would need 13 GB of memory). Run from the workspace after
# `cargo build --release -p salvage-cli -p salvage-tests --bins` and
# `cargo build --profile bench -p salvage-ledger --example audit_driver`; needs curl, bc and
# /usr/bin/time. A 10 M-record ledger takes 13 GB. KEEP=1 reuses a ledger already built there.
set -u
N=$1
B=${B:-target/release}
DIR=${BENCH_DIR:-/tmp/salvage-bench}/l$N
echo "== N=$N"
if [ -z "${KEEP:-}" ] || [ ! -d "$DIR/data" ]; then
  rm -rf "$DIR"; mkdir -p "$(dirname "$DIR")"
  $B/salvage-load build-ledger --data $DIR --records $N --json 2>/dev/null
fi
du -sh $DIR/data | cat
measure_open() {
  local label=$1
  local t0=$(date +%s.%N)
  $B/salvage node --config $DIR/node.toml > $DIR/node-$label.log 2>&1 &
  PID=$!
  until curl -sf -o /dev/null http://127.0.0.1:8080/v1/status; do sleep 0.01; done
  local t1=$(date +%s.%N)
  echo "$label: first /v1/status after $(echo "$t1 - $t0" | bc) s; RSS $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MiB"}')"
}
measure_open reopen
# wait for the background check
for i in $(seq 1 600); do grep -q "checked the record log" $DIR/node-reopen.log && break; sleep 1; done
grep -o 'seconds=[0-9.]*' $DIR/node-reopen.log | head -1 | sed 's/^/background check /'
grep "checked the record log\|differs" $DIR/node-reopen.log | head -2 | cut -c1-300
echo "RSS after check: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MiB"}')"
$B/salvage-load pages --node http://127.0.0.1:8080 --restricted --duration 10 --json 2>/dev/null | cut -c1-400
echo "RSS after pages: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MiB"}')"
$B/salvage-load proofs --node http://127.0.0.1:8080 --restricted --duration 10 --json 2>/dev/null | cut -c1-400
echo "RSS after proofs: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MiB"}')"
kill $PID; wait $PID 2>/dev/null
/usr/bin/time -v $B/salvage report impact --data $DIR/data --genesis $DIR/genesis.json --json > $DIR/impact.json 2> $DIR/impact.time
grep -E "Elapsed|Maximum resident" $DIR/impact.time | sed 's/^/impact report: /'
/usr/bin/time -v $B/salvage audit --data $DIR/data --genesis $DIR/genesis.json > $DIR/audit.txt 2> $DIR/audit.time
grep -E "Elapsed|Maximum resident" $DIR/audit.time
grep -E "records|problems|state" $DIR/audit.txt | head -4
$B/examples/audit_driver audit-data $DIR/data $DIR/genesis.json ${AUDIT_IN_MEMORY:-2000000}
