#!/usr/bin/env bash
# Offline checks for infra/: terraform fmt; init + validate (+ terraform test where a tests/
# folder exists) for every module and environment; checkov with zero failed checks.
# Prints one summary line and exits non-zero on any failure.
#
# Needs terraform >= 1.10, the AWS provider in a filesystem mirror (TF_PLUGIN_DIR, default
# /opt/tf-plugins) and python3 with venv. checkov is installed once, pinned, into its own venv
# because its dependencies conflict with the application's: $RMS_TOOLS_DIR/.venv-checkov, where
# RMS_TOOLS_DIR defaults to the repository root (.venv-*/ is gitignored there).
#
# Knobs: TF_PLUGIN_DIR, RMS_TOOLS_DIR, CHECKOV_VERSION, CHECK_JOBS (parallel roots, default 2),
# SKIP_CHECKOV=1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
INFRA_DIR="$(pwd)"
REPO_ROOT="$(cd .. && pwd)"

TF_PLUGIN_DIR="${TF_PLUGIN_DIR:-/opt/tf-plugins}"
RMS_TOOLS_DIR="${RMS_TOOLS_DIR:-$REPO_ROOT}"
CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
CHECKOV_VENV="$RMS_TOOLS_DIR/.venv-checkov"
CHECK_JOBS="${CHECK_JOBS:-2}"

# A TF_CLI_CONFIG_FILE that points at a missing file only produces warnings: ignore it.
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "$TF_CLI_CONFIG_FILE" ]]; then
  unset TF_CLI_CONFIG_FILE
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

# Terraform data dirs and logs live outside the tree, and go away on exit.
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/rms-infra-check.XXXXXX")"
cleanup() {
  local pids
  pids=$(jobs -pr)
  [[ -n "$pids" ]] && kill $pids 2>/dev/null
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

start=$SECONDS

die() {
  echo "infra check: $*" >&2
  echo "infra check: FAILED (setup)"
  exit 1
}
command -v terraform >/dev/null 2>&1 || die "terraform not found on PATH"
[[ -d "$TF_PLUGIN_DIR" ]] || die "provider mirror $TF_PLUGIN_DIR not found (set TF_PLUGIN_DIR)"

# ---------------------------------------------------------------------------------------------
# checkov, in the background: install once into its venv, then scan offline.
# ---------------------------------------------------------------------------------------------
run_checkov() {
  local log="$SCRATCH/checkov.log" result="$SCRATCH/checkov.result"
  local have=""
  if [[ -x "$CHECKOV_VENV/bin/python" ]]; then
    have=$("$CHECKOV_VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("checkov"))' 2>/dev/null || true)
  fi
  if [[ "$have" != "$CHECKOV_VERSION" ]]; then
    echo "installing checkov==$CHECKOV_VERSION into $CHECKOV_VENV" >"$log"
    if ! { python3 -m venv "$CHECKOV_VENV" &&
      "$CHECKOV_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "checkov==$CHECKOV_VERSION"; } >>"$log" 2>&1; then
      echo "install failed" >"$result"
      return 1
    fi
  fi
  # --skip-download: no guideline or policy downloads (runs offline). Every skip is an inline
  # #checkov:skip comment next to its resource, with the reason.
  if "$CHECKOV_VENV/bin/checkov" --directory "$INFRA_DIR" --framework terraform --skip-download \
    --quiet --compact --output cli >>"$log" 2>&1; then
    grep -Eo 'Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$log" |
      tail -n1 >"$result" || true
    [[ -s "$result" ]] || echo "no findings" >"$result"
    return 0
  fi
  echo "failed" >"$result"
  return 1
}

checkov_pid=""
if [[ "${SKIP_CHECKOV:-0}" != "1" ]]; then
  run_checkov &
  checkov_pid=$!
fi

# ---------------------------------------------------------------------------------------------
# terraform: fmt once, then init/validate/test per root (CHECK_JOBS at a time).
# ---------------------------------------------------------------------------------------------
check_root() {
  # Writes $SCRATCH/<key>.out (report), .failed (failed step names), .counts ("passed failed").
  local dir=$1 key=${1//\//_}
  local out="$SCRATCH/$key.out" failed="$SCRATCH/$key.failed"
  local lock="$INFRA_DIR/$dir/.terraform.lock.hcl" had_lock=0
  : >"$out"
  : >"$failed"
  echo "0 0" >"$SCRATCH/$key.counts"
  [[ -f "$lock" ]] && had_lock=1
  export TF_DATA_DIR="$SCRATCH/$key.tfdata"

  step() { # step NAME CMD...
    local name=$1 log="$SCRATCH/$key.$1.log"
    shift
    if "$@" >"$log" 2>&1; then
      printf '    ok    %s: %s\n' "$dir" "$name" >>"$out"
    else
      printf '    FAIL  %s: %s\n' "$dir" "$name" >>"$out"
      sed 's/^/          /' "$log" >>"$out"
      echo "$dir:$name" >>"$failed"
      return 1
    fi
  }

  if step init terraform -chdir="$dir" init -backend=false -plugin-dir="$TF_PLUGIN_DIR" -input=false -no-color; then
    step validate terraform -chdir="$dir" validate -no-color || true
    if compgen -G "$dir/tests/*.tftest.hcl" >/dev/null; then
      step test terraform -chdir="$dir" test -no-color || true
      local summary
      summary=$(grep -Eo '[0-9]+ passed, [0-9]+ failed' "$SCRATCH/$key.test.log" | tail -n1 || true)
      if [[ -n "$summary" ]]; then
        printf '          %s\n' "$summary" >>"$out"
        local p=${summary%% passed*} f=${summary#*passed, }
        echo "$p ${f%% failed*}" >"$SCRATCH/$key.counts"
      fi
    fi
  fi
  [[ $had_lock -eq 0 ]] && rm -f "$lock"
  return 0
}

echo "==> terraform fmt -check -recursive ($(terraform version | head -n1))"
fmt_failed=0
if terraform fmt -check -recursive -diff . >"$SCRATCH/fmt.log" 2>&1; then
  echo "    ok    fmt"
else
  echo "    FAIL  fmt (run: terraform fmt -recursive infra)"
  sed 's/^/          /' "$SCRATCH/fmt.log"
  fmt_failed=1
fi

# Consistency rules terraform test cannot see (one required_version >= 1.10, one provider
# constraint admitting the mirrored 5.100.0, prod's S3 backend with use_lockfile).
echo "==> consistency of versions and backends"
consistency_failed=0
python3 testing/consistency.py . || consistency_failed=1

mapfile -t roots < <(find modules environments -mindepth 1 -maxdepth 1 -type d | sort)
echo "==> init, validate and test: ${#roots[@]} roots, $CHECK_JOBS at a time"
for dir in "${roots[@]}"; do
  while (($(jobs -rp | grep -vx "${checkov_pid:-none}" | wc -l) >= CHECK_JOBS)); do
    wait -n || true
  done
  check_root "$dir" &
done
# Wait for the terraform jobs (not checkov yet).
for pid in $(jobs -rp); do
  [[ "$pid" == "$checkov_pid" ]] || wait "$pid" || true
done

failures=()
((fmt_failed)) && failures+=("fmt")
((consistency_failed)) && failures+=("consistency")
tests_passed=0
tests_failed=0
for dir in "${roots[@]}"; do
  key=${dir//\//_}
  cat "$SCRATCH/$key.out"
  while read -r f; do [[ -n "$f" ]] && failures+=("$f"); done <"$SCRATCH/$key.failed"
  read -r p f <"$SCRATCH/$key.counts"
  tests_passed=$((tests_passed + p))
  tests_failed=$((tests_failed + f))
done

checkov_result="skipped (SKIP_CHECKOV=1)"
if [[ -n "$checkov_pid" ]]; then
  echo "==> checkov $CHECKOV_VERSION (offline, --skip-download)"
  if wait "$checkov_pid"; then
    checkov_result=$(cat "$SCRATCH/checkov.result")
    echo "    ok    checkov: $checkov_result"
  else
    checkov_result=$(cat "$SCRATCH/checkov.result" 2>/dev/null || echo failed)
    grep -v "is ignored: it is neither a file nor a directory" "$SCRATCH/checkov.log" || true
    failures+=("checkov")
  fi
fi

elapsed=$((SECONDS - start))
echo
if ((${#failures[@]} == 0)); then
  echo "infra check: OK in ${elapsed}s (fmt; init+validate of ${#roots[@]} roots; checkov: $checkov_result)"
  status=0
else
  echo "infra check: FAILED in ${elapsed}s: ${failures[*]}"
  status=1
fi
# Plain closing line ("word: N passed, N failed") counting terraform test runs in all roots.
echo "terraform: ${tests_passed} passed, ${tests_failed} failed"
exit $status
