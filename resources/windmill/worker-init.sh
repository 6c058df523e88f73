#!/usr/bin/env bash
# What a Windmill worker needs to run the Fractal pack, beyond the Python packages each script pins itself
# (a `# requirements:` block, installed by the worker; ansible-core and ansible-lint come from there and the
# pack runs them through its own launchers, whatever Ansible the image has):
#   - git        catalogs (in the standard image)
#   - terraform  Terraform entities (not in any Windmill image): installed here from HashiCorp's apt repository
#   - kubectl    Kubernetes entities (in the standard image)
# Use it as the worker group's init script (Enterprise: Workers → worker group → Init script), or in a
# derived image (Community Edition): see worker.Dockerfile beside this file.
#   worker-init.sh          install what is missing (root, Debian/Ubuntu image)
#   worker-init.sh --check  only report; exit 1 when a required command is missing
set -euo pipefail
TERRAFORM_VERSION=1.11.4

missing=()
for cmd in git terraform kubectl; do
  if command -v "$cmd" >/dev/null; then echo "ok: $cmd ($(command -v "$cmd"))"; else echo "missing: $cmd"; missing+=("$cmd"); fi
done
[ "${1:-}" = "--check" ] && { [ ${#missing[@]} -eq 0 ]; exit; }

if [[ " ${missing[*]} " == *" terraform "* ]]; then
  apt-get update -q && apt-get install -y -q --no-install-recommends gnupg curl ca-certificates lsb-release
  curl -fsSL https://apt.releases.hashicorp.com/gpg | gpg --dearmor -o /usr/share/keyrings/hashicorp.gpg
  echo "deb [signed-by=/usr/share/keyrings/hashicorp.gpg] https://apt.releases.hashicorp.com $(lsb_release -cs) main" \
    > /etc/apt/sources.list.d/hashicorp.list
  apt-get update -q && apt-get install -y -q "terraform=${TERRAFORM_VERSION}-*"
fi
if [[ " ${missing[*]} " == *" git "* ]]; then apt-get update -q && apt-get install -y -q --no-install-recommends git; fi
if [[ " ${missing[*]} " == *" kubectl "* ]]; then
  echo "kubectl is missing: use Windmill's standard image (it has kubectl), or install it from pkgs.k8s.io" >&2
fi
