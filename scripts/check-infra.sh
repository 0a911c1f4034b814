#!/usr/bin/env bash
# Static checks of the deployment files (infra/, terraform/): no Docker engine, cloud account or
# terraform providers are needed, only the ecosystems' own linters, installed from PyPI into a
# cached virtualenv on first use:
#
#   hadolint                 infra/docker/Dockerfile
#   checkov                  Dockerfile, terraform/, the Kustomize tree, the rendered prod manifests
#   python-hcl2              parses every .tf (and the example .tfvars/.hcl)
#   variables and outputs    every Terraform variable has a type and a description, every output
#                            a description
#   kubectl kustomize        the base and the prod overlay render
#   compose                  `docker compose config` where the Compose plugin exists, else the
#                            Compose specification's JSON schema
#   terraform fmt            where a terraform binary exists (providers are never downloaded)
#
# One line per check on success; on failure the tool's output and a non-zero exit.
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${XDG_CACHE_HOME:-$HOME/.cache}/photoshare-infra-venv"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

fail() { printf 'FAILED: %s\n' "$*" >&2; exit 1; }

# check NAME COMMAND...: runs the command quietly; prints "ok NAME", or its output and fails.
check() {
    local name="$1"
    shift
    if "$@" >"$tmp/out" 2>&1; then
        printf 'ok      %s\n' "$name"
    else
        cat "$tmp/out" >&2
        fail "$name"
    fi
}

skip() { printf 'skipped %s\n' "$*"; }

# A virtualenv per requirements file, named by the file's hash, so a changed pin makes a new one.
venv_for() {
    local requirements="$1" name="$2" hash dir
    hash="$(sha256sum "$requirements" | cut -c1-12)"
    dir="$cache/$name-$hash"
    if [[ ! -f "$dir/.complete" ]]; then
        command -v python3 >/dev/null || fail "python3 is needed to install the linters"
        printf 'installing %s into %s\n' "$name" "$dir" >&2
        rm -rf "$dir"
        python3 -m venv "$dir" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "python3 -m venv $dir (on Debian: apt-get install python3-venv)"; }
        "$dir/bin/pip" install --quiet --disable-pip-version-check --requirement "$requirements" >"$tmp/out" 2>&1 \
            || { cat "$tmp/out" >&2; fail "pip install -r $requirements"; }
        touch "$dir/.complete"
    fi
    printf '%s\n' "$dir"
}

tools="$(venv_for infra/tools/requirements-tools.txt tools)"
checkov_env="$(venv_for infra/tools/requirements-checkov.txt checkov)"

# kubectl renders the Kustomize tree (checkov's kustomize framework uses it too).
if ! command -v kubectl >/dev/null; then
    if [[ -x /usr/bin/kubectl ]]; then
        PATH="/usr/bin:$PATH"
    else
        fail "kubectl is not installed: it renders infra/k8s. Install it from the Kubernetes apt repository (https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/) or any kubectl >= 1.27 on PATH"
    fi
fi

export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
# checkov exits 0 when it found nothing to scan (a renderer missing, a path moved): demand that
# it passed some checks as well as failed none.
checkov() {
    local out status=0
    out="$("$checkov_env/bin/checkov" --quiet --compact --skip-download "$@" 2>&1)" || status=$?
    printf '%s\n' "$out"
    [[ $status -eq 0 ]] || return "$status"
    grep -Eq 'Passed checks: [1-9]' <<<"$out" || { echo "checkov scanned nothing: $*"; return 1; }
}

# ---------------------------------------------------------------- container image
check "hadolint infra/docker/Dockerfile" "$tools/bin/hadolint" --no-color infra/docker/Dockerfile
check "checkov dockerfile" checkov --framework dockerfile -f infra/docker/Dockerfile

# ---------------------------------------------------------------- Kubernetes
check "kubectl kustomize infra/k8s/base" sh -c 'kubectl kustomize infra/k8s/base > "$1"' _ "$tmp/base.yaml"
check "kubectl kustomize infra/k8s/overlays/prod" sh -c 'kubectl kustomize infra/k8s/overlays/prod > "$1"' _ "$tmp/prod.yaml"
check "checkov kustomize infra/k8s (base and overlays)" checkov --framework kustomize -d infra/k8s
check "checkov kubernetes (rendered prod overlay)" checkov --framework kubernetes -f "$tmp/prod.yaml"

# ---------------------------------------------------------------- Terraform
check "checkov terraform" checkov --framework terraform -d terraform
check "python-hcl2 parses every .tf; variables typed and described, outputs described, both in terraform/README.md" \
    "$tools/bin/python" - <<'PY'
import pathlib
import sys

import hcl2

root = pathlib.Path("terraform")
files = sorted(root.rglob("*.tf")) + sorted(root.rglob("*.tfvars.example")) + sorted(root.rglob("*.hcl.example"))
if not any(p.suffix == ".tf" for p in files):
    sys.exit("no .tf files under terraform/")
problems = []


def text(value):
    return str(value).strip().strip('"').strip() if value is not None else ""


for path in files:
    try:
        with path.open() as f:
            doc = hcl2.load(f)
    except Exception as error:  # the parser's own message names the line
        problems.append(f"{path}: does not parse: {error}")
        continue
    for block in doc.get("variable", []):
        for name, body in block.items():
            name = text(name)
            if "type" not in body:
                problems.append(f"{path}: variable {name} has no type")
            if not text(body.get("description")):
                problems.append(f"{path}: variable {name} has no description")
    for block in doc.get("output", []):
        for name, body in block.items():
            if not text(body.get("description")):
                problems.append(f"{path}: output {text(name)} has no description")

# terraform/README.md documents every input and output of every module and environment.
readme = (root / "README.md").read_text()
for path in files:
    if path.name not in ("variables.tf", "outputs.tf"):
        continue
    section = f"### {path.parent.relative_to(root)}"
    if section not in readme:
        problems.append(f"terraform/README.md has no section {section!r}")
        continue
    body = readme.split(section, 1)[1].split("\n### ", 1)[0]
    with path.open() as f:
        doc = hcl2.load(f)
    for kind in ("variable", "output"):
        for block in doc.get(kind, []):
            for name in block:
                if f"| `{text(name)}` |" not in body:
                    problems.append(f"terraform/README.md, {section}: {kind} {text(name)} is not documented")

for module in sorted(p for p in (root / "modules").iterdir() if p.is_dir()):
    if not (module / "versions.tf").is_file():
        problems.append(f"{module}: no versions.tf (required_providers)")

if problems:
    sys.exit("\n".join(problems))
print(f"{len(files)} files")
PY
if command -v terraform >/dev/null; then
    check "terraform fmt -check" terraform fmt -check -recursive terraform
else
    skip "terraform fmt (no terraform binary; not needed by the other checks)"
fi

# ---------------------------------------------------------------- compose
# The S3 endpoint is required by the file (it must be the LAN address); any value validates.
export PHOTOSHARE_S3_PUBLIC_ENDPOINT="${PHOTOSHARE_S3_PUBLIC_ENDPOINT:-http://192.0.2.10:9000}"
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
    check "docker compose config infra/compose/compose.yaml" docker compose -f infra/compose/compose.yaml config -q
else
    check "compose.yaml against the Compose specification schema (no docker compose here)" \
        "$tools/bin/check-jsonschema" --builtin-schema vendor.compose-spec infra/compose/compose.yaml
fi

printf 'infra checks passed\n'
