#!/usr/bin/env bash
# The home feed benchmark (issue 5): seeds a running `photoshare dev` through the REST API
# (users, a power-law follower graph, photos through the real upload flow), then measures
#   (a) GET /v1/feed?limit=20 (hydrated) and GET /livez with wrk, 64 connections, same run;
#   (b) fan-out of one post to 10 000 followers on the real Redis beside redis-benchmark's
#       pipelined ZADD (services/feed/examples/fanout_bench.rs);
# with a profile of the feed load (CPU per process, mean time per gRPC method from the
# services' /metrics), and prints a summary against the issue's goals.
#
#   scripts/bench-feed.sh
#
# Needs PostgreSQL (postgres://postgres@127.0.0.1:5432, trust) and Redis (127.0.0.1:6379)
# running, wrk and redis-tools (apt). Knobs (environment):
#   BENCH_BACKEND=postgres|sqlite   durable stores (default postgres; the feed cache is Redis
#                                   either way)
#   BENCH_USERS=300 BENCH_POSTERS=120 BENCH_DURATION=15 BENCH_CONNECTIONS=64 BENCH_THREADS=2
#   FANOUT_BENCH_POSTS=20
#   BENCH_NO_BUILD=1 (use the binaries already built; BENCH_BIN / BENCH_FANOUT_BIN name others)
# Events go over the embedded log (no Kafka). Everything it creates (databases bench_<id>_*,
# Redis keys bench<id>:*, the temporary data directory) is removed on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/photoshare-target}"

BACKEND="${BENCH_BACKEND:-postgres}"
USERS="${BENCH_USERS:-300}"
POSTERS="${BENCH_POSTERS:-120}"
DURATION="${BENCH_DURATION:-15}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
PG_URL="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432}"
REDIS_URL="${BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
IMAGE="${BENCH_IMAGE:-../shared/testdata/images/jpeg_444_restart_markers.jpg}"

for tool in wrk redis-benchmark redis-cli curl python3 ss; do
  command -v "$tool" >/dev/null || {
    echo "bench-feed: $tool is missing (apt-get install -y wrk redis-tools iproute2 curl)" >&2
    exit 1
  }
done
if [[ "$BACKEND" == postgres ]]; then
  command -v psql >/dev/null || { echo "bench-feed: psql is missing" >&2; exit 1; }
fi
[[ -f "$IMAGE" ]] || { echo "bench-feed: no test image at $IMAGE" >&2; exit 1; }

BIN="${BENCH_BIN:-$CARGO_TARGET_DIR/release/photoshare}"
FANOUT_BIN="${BENCH_FANOUT_BIN:-$CARGO_TARGET_DIR/release/examples/fanout_bench}"
if [[ -z "${BENCH_NO_BUILD:-}" ]]; then
  echo "== building (release)"
  cargo build --release -p photoshare
  cargo build --release -p photoshare-feed --example fanout_bench
fi

ID="$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
WORK="$(mktemp -d -t bench-feed.XXXXXX)"
DB_PREFIX="bench_${ID}_"
REDIS_PREFIX="bench${ID}:"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
API="http://127.0.0.1:$PORT"
SERVER_PID=""

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -INT "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

cleanup() {
  local status=$?
  stop_server
  if [[ "$BACKEND" == postgres ]]; then
    for db in $(psql "$PG_URL/postgres" -Atc \
        "SELECT datname FROM pg_database WHERE datname LIKE '${DB_PREFIX}%'" 2>/dev/null); do
      psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 \
        || echo "bench-feed: could not drop database $db" >&2
    done
  fi
  redis-cli -u "$REDIS_URL" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null \
    | xargs -r -n 500 redis-cli -u "$REDIS_URL" DEL >/dev/null 2>&1 || true
  if [[ $status -ne 0 ]]; then
    echo "bench-feed: failed (exit $status); last lines of the server log:" >&2
    tail -n 30 "$WORK/server.log" >&2 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The sign-up rate limit (10 per IP and minute) would stop the seeding: raise it for this run.
cat >"$WORK/config.toml" <<'EOF'
[gateway]
auth_rate_limit_per_minute = 1000000
EOF

echo "== starting photoshare dev on $API (backend: $BACKEND for the durable stores, Redis feed cache, embedded event log — no Kafka, embedded S3)"
ENV=(PHOTOSHARE_CONFIG="$WORK/config.toml" PHOTOSHARE_REDIS_URL="$REDIS_URL"
     PHOTOSHARE_FEED_REDIS_KEY_PREFIX="$REDIS_PREFIX" PHOTOSHARE_LOG="${PHOTOSHARE_LOG:-warn}")
if [[ "$BACKEND" == postgres ]]; then
  ENV+=(PHOTOSHARE_POSTGRES_URL="$PG_URL" PHOTOSHARE_POSTGRES_DATABASE_PREFIX="$DB_PREFIX")
fi
env "${ENV[@]}" "$BIN" dev --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" \
  >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for i in $(seq 600); do
  if [[ "$(curl -s -o /dev/null -w '%{http_code}' "$API/readyz" || true)" == 200 ]]; then break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench-feed: the server exited" >&2; exit 1; }
  [[ $i == 600 ]] && { echo "bench-feed: /readyz not 200 after 120 s" >&2; exit 1; }
  sleep 0.2
done
echo "ready (pid $SERVER_PID)"

# ---------------------------------------------------------------------------------------------
echo "== seeding $USERS users, a power-law follower graph, photos from $POSTERS posters"
cat >"$WORK/seed.py" <<'PY'
import json, math, random, sys, time, urllib.request, urllib.error
from concurrent.futures import ThreadPoolExecutor

api, users, posters, image, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
rng = random.Random(5)
tag = format(rng.getrandbits(24), "x")

def call(method, path, body=None, token=None, expect=(200, 201, 202, 204), url=None, headers=None, data=None):
    h = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        h["content-type"] = "application/json"
    if token:
        h["authorization"] = "Bearer " + token
    req = urllib.request.Request(url or api + path, data=data, method=method, headers=h)
    for attempt in range(5):
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            raw, status = e.read(), e.code
        if status == 429 or status >= 500:
            time.sleep(0.5 * (attempt + 1))
            continue
        break
    if status not in expect:
        raise RuntimeError(f"{method} {path or url}: {status} {raw[:300]!r}")
    return json.loads(raw) if raw else None

def signup(i):
    name = f"b{tag}_{i:05d}"
    s = call("POST", "/v1/auth/signup",
             {"username": name, "email": f"{name}@bench.example", "password": "bench correct horse"})
    return name, s["access_token"]

t0 = time.time()
with ThreadPoolExecutor(8) as pool:
    accounts = list(pool.map(signup, range(users)))
print(f"  signed up {users} users in {time.time()-t0:.1f} s", flush=True)

# Power law: the user of rank r (1-based) is followed by ~ C / r users; C = users/2, at least 1.
# Everyone also follows 3 random people so that every reader has a feed.
C = users / 2
edges = set()
for r in range(1, users + 1):
    author = r - 1
    want = min(users - 1, max(1, round(C / r)))
    for f in rng.sample([u for u in range(users) if u != author], want):
        edges.add((f, author))
for f in range(users):
    for a in rng.sample(range(users), 4):
        if a != f:
            edges.add((f, a))
t0 = time.time()
def follow(e):
    f, a = e
    call("POST", f"/v1/users/{accounts[a][0]}/follow", token=accounts[f][1])
with ThreadPoolExecutor(16) as pool:
    list(pool.map(follow, sorted(edges)))
indeg = [0] * users
for _, a in edges:
    indeg[a] += 1
top = sorted(indeg, reverse=True)
print(f"  {len(edges)} follows in {time.time()-t0:.1f} s; followers of the top 5: {top[:5]}, median {top[users//2]}", flush=True)

# Photos: the most followed posters and random others, 1-3 photos each, the real upload flow.
jpeg = open(image, "rb").read()
chosen = list(range(min(10, posters))) + rng.sample(range(10, users), max(0, min(posters, users) - 10))
def post(u):
    token = accounts[u][1]
    ids = []
    for n in range(rng.randint(1, 3)):
        up = call("POST", "/v1/uploads", {"content_type": "image/jpeg", "content_length": len(jpeg)}, token=token)
        call(up.get("method", "PUT"), None, url=up["url"], headers=up.get("headers", {}), data=jpeg,
             expect=(200, 201, 204))
        photo = call("POST", "/v1/photos", {"upload_id": up["upload_id"], "caption": f"bench {u}/{n} #bench"}, token=token)
        ids.append(photo["id"])
    for pid in ids:
        for _ in range(600):
            p = call("GET", f"/v1/photos/{pid}", token=token)
            if p.get("status") == "ready":
                break
            if p.get("status") not in (None, "processing"):
                raise RuntimeError(f"photo {pid}: {p.get('status')}")
            time.sleep(0.1)
        else:
            raise RuntimeError(f"photo {pid} not ready after 60 s")
    return len(ids)
t0 = time.time()
with ThreadPoolExecutor(8) as pool:
    photos = sum(pool.map(post, chosen))
print(f"  {photos} photos by {len(chosen)} posters uploaded and ready in {time.time()-t0:.1f} s", flush=True)

# Warm-up: every reader reads a page once (builds their cached feed, makes them active), then
# wait until the feeds settle (the fan-out worker and read-time rebuilds).
def first_page(acc):
    return len(call("GET", "/v1/feed?limit=20", token=acc[1])["items"])
t0 = time.time()
with ThreadPoolExecutor(16) as pool:
    sizes = list(pool.map(first_page, accounts))
time.sleep(2)
with ThreadPoolExecutor(16) as pool:
    sizes = list(pool.map(first_page, accounts))
empty = sum(1 for s in sizes if s == 0)
print(f"  warm-up: every reader read a page ({time.time()-t0:.1f} s); items per page: mean {sum(sizes)/len(sizes):.1f}, "
      f"full (20) {sum(1 for s in sizes if s == 20)}, empty {empty}", flush=True)
with open(out, "w") as f:
    for _, token in accounts:
        f.write(token + "\n")
json.dump({"users": users, "follows": len(edges), "photos": photos, "posters": len(chosen),
           "top_followers": top[:5], "mean_items": sum(sizes)/len(sizes), "empty_feeds": empty},
          open(out + ".json", "w"))
PY
python3 "$WORK/seed.py" "$API" "$USERS" "$POSTERS" "$IMAGE" "$WORK/tokens.txt"

# ---------------------------------------------------------------------------------------------
cat >"$WORK/feed.lua" <<'LUA'
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local counter = 0
local threads = 0
-- setup runs in the main state; each thread starts at its own place in the token list.
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  counter = ((tid or 1) * 7919) % #tokens
end
function request()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  return wrk.format("GET", "/v1/feed?limit=20", { ["Authorization"] = "Bearer " .. token })
end
LUA
cat >"$WORK/done.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK rps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout))
end
LUA
cat "$WORK/feed.lua" "$WORK/done.lua" >"$WORK/feed_bench.lua"
cp "$WORK/done.lua" "$WORK/livez_bench.lua"

# Profile helpers: CPU per process (from /proc) and the services' request histograms.
cat >"$WORK/profile.py" <<'PY'
import json, os, re, subprocess, sys, urllib.request
def cpu():
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = open(f"/proc/{pid}/stat").read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[pid] = (comm, int(fields[11]) + int(fields[12]))
    return out
def metrics(server_pid):
    ss = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    addrs = sorted({l.split()[3] for l in ss.splitlines() if f"pid={server_pid}," in l})
    series = {}
    for addr in addrs:
        try:
            text = urllib.request.urlopen(f"http://{addr}/metrics", timeout=2).read().decode()
        except Exception:
            continue
        for line in text.splitlines():
            m = re.match(r'photoshare_request_duration_seconds_(sum|count)\{(.*)\} (\S+)', line)
            if not m:
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            key = f'{labels.get("service")} {labels.get("protocol")} {labels.get("route")} {labels.get("status")}'
            series.setdefault(key, [0.0, 0.0])[0 if m.group(1) == "sum" else 1] += float(m.group(3))
    return {"addrs": addrs, "series": series}
if sys.argv[1] == "snap":
    json.dump({"cpu": cpu(), "metrics": metrics(sys.argv[3]), "t": os.times().elapsed}, open(sys.argv[2], "w"))
else:
    a, b = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
    feed_requests = float(sys.argv[4])
    dt = b["t"] - a["t"]
    tick = os.sysconf("SC_CLK_TCK")
    by = {}
    for pid, (comm, t) in b["cpu"].items():
        t0 = a["cpu"].get(pid, (comm, 0))[1]
        by[comm] = by.get(comm, 0) + (t - t0)
    total = sum(by.values())
    print(f"PROFILE cpu over {dt:.1f} s (2 cores = 200 %), by process name:")
    for comm, t in sorted(by.items(), key=lambda kv: -kv[1])[:8]:
        print(f"PROFILE   {comm:<22} {100 * t / tick / dt:6.1f} %")
    print(f"PROFILE   {'(all)':<22} {100 * total / tick / dt:6.1f} %")
    print(f"PROFILE requests served during the feed run, from /metrics on {len(b['metrics']['addrs'])} ports:")
    print(f"PROFILE   {'service protocol route status':<62} {'calls':>8} {'per feed':>8} {'mean ms':>8}")
    rows = []
    for key, (s, c) in b["metrics"]["series"].items():
        s0, c0 = a["metrics"]["series"].get(key, [0.0, 0.0])
        if c - c0 > 0:
            rows.append((key, c - c0, (s - s0) / (c - c0) * 1000))
    for key, n, mean in sorted(rows, key=lambda r: -r[1] * r[2]):
        if n < 0.01 * feed_requests:
            continue  # the probes of this script and other stragglers
        print(f"PROFILE   {key:<62} {n:8.0f} {n / max(feed_requests, 1):8.2f} {mean:8.2f}")
PY

echo "== wrk: $CONNECTIONS connections, $THREADS threads, ${DURATION} s each"
echo "-- GET /livez"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/livez_bench.lua" "$API/livez" \
  | tee "$WORK/livez.txt"
echo "-- GET /v1/feed?limit=20 (rotating over $USERS readers' tokens)"
python3 "$WORK/profile.py" snap "$WORK/before.json" "$SERVER_PID"
BENCH_TOKENS="$WORK/tokens.txt" wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency \
  -s "$WORK/feed_bench.lua" "$API/v1/feed?limit=20" | tee "$WORK/feed.txt"
python3 "$WORK/profile.py" snap "$WORK/after.json" "$SERVER_PID"
FEED_REQUESTS="$(sed -n 's/^WRK .*requests=\([0-9]*\).*/\1/p' "$WORK/feed.txt")"
python3 "$WORK/profile.py" diff "$WORK/before.json" "$WORK/after.json" "${FEED_REQUESTS:-0}" \
  | tee "$WORK/profile.txt"
# One page, to show what a read returns.
TOKEN1="$(head -n1 "$WORK/tokens.txt")"
curl -s "$API/v1/feed?limit=20" -H "authorization: Bearer $TOKEN1" \
  | python3 -c 'import json,sys
d = json.load(sys.stdin); items = d["items"]
print("sample page:", len(items), "items, next_cursor", "set" if d.get("next_cursor") else "null",
      "| first item keys:", sorted(items[0]) if items else [])'

stop_server

# ---------------------------------------------------------------------------------------------
echo "== fan-out: one post to 10 000 followers on Redis, beside redis-benchmark (server stopped)"
PHOTOSHARE_REDIS_URL="$REDIS_URL" "$FANOUT_BIN" | tee "$WORK/fanout.txt" \
  || echo "bench-feed: the fan-out bench FAILED (see above)" | tee -a "$WORK/fanout.txt"

# ---------------------------------------------------------------------------------------------
python3 - "$WORK" "$BACKEND" "$CONNECTIONS" "$THREADS" "$DURATION" <<'PY'
import json, re, sys
work, backend, conns, threads, duration = sys.argv[1:6]
def wrk(path):
    text = open(path).read()
    m = re.search(r"^WRK (.*)$", text, re.M)
    return {k: float(v) for k, v in (kv.split("=") for kv in m.group(1).split())}
feed, livez = wrk(f"{work}/feed.txt"), wrk(f"{work}/livez.txt")
seed = json.load(open(f"{work}/tokens.txt.json"))
fan = dict(re.findall(r"^FANOUT (\w+)=(\S+)$", open(f"{work}/fanout.txt").read(), re.M))
def num(k):
    try:
        return float(fan[k])
    except (KeyError, ValueError):
        return None
ratio_feed = feed["rps"] / livez["rps"]
ok = lambda b: "REACHED" if b else "NOT reached"
print()
print("=" * 78)
print(f"FEED BENCH SUMMARY (2-core machine; durable stores: {backend}; feed cache: Redis;")
print(f"events: embedded log, no Kafka; objects: embedded S3; wrk -t{threads} -c{conns} -d{duration}s)")
print(f"seed: {seed['users']} users, {seed['follows']} follows (power law, top followers {seed['top_followers']}),")
print(f"      {seed['photos']} photos by {seed['posters']} posters; first page mean {seed['mean_items']:.1f} items, {seed['empty_feeds']} empty")
print("-" * 78)
print(f"GET /livez            {livez['rps']:10.0f} req/s  p50 {livez['p50_ms']:6.2f} ms  p99 {livez['p99_ms']:6.2f} ms  non-2xx {livez['non2xx']:.0f}")
print(f"GET /v1/feed limit=20 {feed['rps']:10.0f} req/s  p50 {feed['p50_ms']:6.2f} ms  p99 {feed['p99_ms']:6.2f} ms  non-2xx {feed['non2xx']:.0f}  errors {feed['socket_errors']:.0f}")
print(f"feed / livez          {ratio_feed:10.3f}")
print(f"  goal feed >= 10000 req/s:   {ok(feed['rps'] >= 10000)}")
print(f"  goal feed p99 < 50 ms:      {ok(feed['p99_ms'] < 50)}")
print(f"  goal feed >= 25 % of livez: {ok(ratio_feed >= 0.25)}")
print("-" * 78)
med, p99, zps = num("redis_median_ms"), num("redis_p99_ms"), num("redis_zadd_per_s")
raw, ratio = num("raw_zadd_per_s_c50"), num("ratio_ours_raw")
f = lambda x, spec=".2f": "n/a" if x is None else format(x, spec)
print(f"fan-out 1 post -> 10 000 active followers (Redis, batches of 1 000):")
print(f"  median {f(med)} ms, p99 {f(p99)} ms, {f(zps, '.0f')} ZADD/s (in-process cache: median {f(num('memory_median_ms'))} ms)")
if raw:
    print(f"  redis-benchmark ZADD -P 1000 -c 50: {raw:.0f} req/s; ours/raw {ratio:.3f}")
if num("raw_zadd_per_s_c1"):
    print(f"  redis-benchmark ZADD -P 1000 -c 1:  {num('raw_zadd_per_s_c1'):.0f} req/s; ours/raw {num('ratio_ours_raw_c1'):.3f}")
print(f"  goal fan-out < 100 ms:          {ok(med is not None and med < 100)}")
print(f"  goal >= 50 % of raw Redis ZADD: {ok(ratio is not None and ratio >= 0.5)}")
print("-" * 78)
print("profile of the feed run (CPU by process; per-hop mean time, heaviest first):")
for line in open(f"{work}/profile.txt"):
    print("  " + line.rstrip()[len("PROFILE "):])
print("=" * 78)
PY
