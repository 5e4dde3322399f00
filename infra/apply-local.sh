#!/usr/bin/env bash
# make infra-apply-local: apply environments/dev against moto's server on a free loopback port,
# check the outputs, destroy, stop moto. Nothing reaches AWS: the provider's endpoints are all
# overridden to the loopback server by an override file written into a scratch copy of infra/
# (never into the tree), with fake credentials from the environment.
#
# What moto cannot emulate, and how each is handled (also in infra/README.md):
#   - AWS Budgets: Terraform's budget resource cannot round-trip against moto
#     -> create_budget = false for this run (the budget is covered by terraform test).
#   - The Lambda code is never run (moto would need Docker): a dummy zip stands in for the
#     package; the function, its URL-less HTTP API integration and permissions are created.
#   See LOCAL_APPLY_VARS below for the rest.
#
# Needs: terraform, the provider mirror (TF_PLUGIN_DIR, default /opt/tf-plugins), and the
# project's venv with moto[server] (make install-dev). Knobs: KEEP_SCRATCH=1 keeps the scratch
# directory and moto's log for a look after a failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
INFRA_DIR="$(pwd)"
REPO_ROOT="$(cd .. && pwd)"
PY="$REPO_ROOT/.venv/bin/python"
TF_PLUGIN_DIR="${TF_PLUGIN_DIR:-/opt/tf-plugins}"

if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -f "$TF_CLI_CONFIG_FILE" ]]; then
  unset TF_CLI_CONFIG_FILE
fi
export TF_IN_AUTOMATION=1 TF_INPUT=0 CHECKPOINT_DISABLE=1

[[ -x "$PY" ]] || { echo "apply-local: $PY not found (run make install-dev)" >&2; exit 1; }
command -v terraform >/dev/null || { echo "apply-local: terraform not found" >&2; exit 1; }

SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/rms-apply-local.XXXXXX")"
moto_pid=""
cleanup() {
  local status=$?
  if [[ -n "$moto_pid" ]] && kill -0 "$moto_pid" 2>/dev/null; then
    kill "$moto_pid" 2>/dev/null || true
    wait "$moto_pid" 2>/dev/null || true
  fi
  if [[ "${KEEP_SCRATCH:-0}" == "1" || $status -ne 0 ]]; then
    echo "apply-local: scratch kept in $SCRATCH (moto log: $SCRATCH/moto.log)"
  else
    rm -rf "$SCRATCH"
  fi
  exit $status
}
trap cleanup EXIT
start=$SECONDS

# Fake credentials only: the override points every endpoint at loopback anyway.
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE || true

# A free loopback port (bound then released; moto binds it right after).
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
ENDPOINT="http://127.0.0.1:$PORT"

echo "==> moto server on $ENDPOINT"
MOTO_IAM_LOAD_MANAGED_POLICIES=true "$PY" -m moto.server -H 127.0.0.1 -p "$PORT" >"$SCRATCH/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 100); do
  if "$PY" -c "import urllib.request,sys; urllib.request.urlopen('$ENDPOINT/moto-api/reset', data=b'', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { cat "$SCRATCH/moto.log" >&2; echo "apply-local: moto did not start" >&2; exit 1; }
  sleep 0.2
done

# A scratch copy of the modules and the dev environment, plus the override file.
mkdir -p "$SCRATCH/infra/environments"
cp -r "$INFRA_DIR/modules" "$SCRATCH/infra/modules"
cp -r "$INFRA_DIR/environments/dev" "$SCRATCH/infra/environments/dev"
rm -rf "$SCRATCH/infra/environments/dev/.terraform" "$SCRATCH/infra/environments/dev/tests" \
  "$SCRATCH"/infra/environments/dev/*.tfstate* "$SCRATCH"/infra/environments/dev/terraform.tfvars
ENV_DIR="$SCRATCH/infra/environments/dev"
"$PY" "$INFRA_DIR/testing/local/write_override.py" "$ENDPOINT" >"$ENV_DIR/zz_moto_override.tf"

# A dummy deployment package: the code is never run here.
"$PY" - "$SCRATCH/rms-lambda.zip" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("rms/lambda_handler.py", "def handler(event, context):\n    return {'statusCode': 503}\n")
PYEOF

# What the local apply turns off because moto cannot emulate it; each is listed in
# infra/README.md ("Local apply against moto").
cat >"$SCRATCH/local.tfvars" <<TFVARS
service_package_path          = "$SCRATCH/rms-lambda.zip"
create_budget                 = ${LOCAL_CREATE_BUDGET:-false}
dual_stack                    = false
master_password_rotation_days = null
TFVARS
LOCAL_APPLY_VARS=(-var-file="$SCRATCH/local.tfvars")

export TF_DATA_DIR="$SCRATCH/tfdata"
tf() { terraform -chdir="$ENV_DIR" "$@"; }

echo "==> terraform init"
tf init -backend=false -plugin-dir="$TF_PLUGIN_DIR" -input=false -no-color >"$SCRATCH/init.log" 2>&1 ||
  { cat "$SCRATCH/init.log" >&2; exit 1; }

echo "==> terraform apply (environments/dev against moto)"
if ! tf apply -auto-approve -no-color -parallelism=4 "${LOCAL_APPLY_VARS[@]}" >"$SCRATCH/apply.log" 2>&1; then
  tail -n 60 "$SCRATCH/apply.log" >&2
  echo "apply-local: apply FAILED" >&2
  exit 1
fi
echo "    $(grep -Eo 'Apply complete! Resources: [0-9]+ added' "$SCRATCH/apply.log")"

echo "==> outputs"
tf output -json >"$SCRATCH/outputs.json"
"$PY" "$INFRA_DIR/testing/local/check_outputs.py" "$SCRATCH/outputs.json"

echo "==> terraform destroy"
if ! tf destroy -auto-approve -no-color -parallelism=4 "${LOCAL_APPLY_VARS[@]}" >"$SCRATCH/destroy.log" 2>&1; then
  tail -n 60 "$SCRATCH/destroy.log" >&2
  echo "apply-local: destroy FAILED" >&2
  exit 1
fi
echo "    $(grep -Eo 'Destroy complete! Resources: [0-9]+ destroyed' "$SCRATCH/destroy.log")"
echo "apply-local: OK in $((SECONDS - start))s"
