#!/usr/bin/env bash
# Run the Node clients (the router's TypeScript SDK and the Vercel AI SDK) against a fresh
# chat-emulator on a free port. Needs node >= 18, npm, and the package installed in the current
# Python environment (pip install -e .). Usage: interop/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
npm install --no-audit --no-fund --loglevel=error
python=${PYTHON:-python3}
log="$(mktemp)"
"$python" -m emulator serve --port 0 --seed 1 >"$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  url="$(sed -n 's/^chat-emulator serving on \(http[^ ]*\).*/\1/p' "$log")"
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "${url:-}" ] || { cat "$log"; echo "the emulator did not start" >&2; exit 1; }
echo "emulator at $url"
node check.mjs "$url"
