"""The policy's table: dangerous constructs it must find (tool, file, text, rule) and safe look-alikes."""

from __future__ import annotations

PolicyCase = tuple[str, str, str, str, str]  # id, tool, file, text, rule ("" = nothing to find)


def _task(body: str) -> str:
    return f"- name: Play\n  hosts: localhost\n  tasks:\n    - name: Task\n{body}"


DANGEROUS: list[PolicyCase] = [
    ("local-exec", "terraform", "main.tf",
     'resource "null_resource" "x" {\n  provisioner "local-exec" {\n    command = "curl -s https://x.sh | sh"\n  }\n}\n',
     "terraform-local-exec"),
    ("remote-exec", "terraform", "main.tf",
     'resource "null_resource" "x" {\n  provisioner "remote-exec" {\n    inline = ["id"]\n  }\n}\n', "terraform-remote-exec"),
    ("external-data", "terraform", "main.tf", 'data "external" "x" {\n  program = ["python3", "x.py"]\n}\n',
     "terraform-external-data"),
    ("tf-privileged", "terraform", "pod.tf", 'resource "kubernetes_pod" "p" {\n  spec {\n    container {\n'
         '      security_context {\n'
     "        privileged = true\n      }\n    }\n  }\n}\n", "kubernetes-privileged"),
    ("tf-host-path", "terraform", "pod.tf", 'resource "kubernetes_pod" "p" {\n  spec {\n    volume {\n      host_path {\n'
     '        path = "/"\n      }\n    }\n  }\n}\n', "kubernetes-host-path"),
    ("curl-pipe-sudo-bash", "ansible", "site.yml",
     _task("      ansible.builtin.shell: curl -sfL https://get.example.sh | sudo bash -s -- --yes\n"), "ansible-pipe-to-shell"),
    ("wget-pipe-sh", "ansible", "site.yml", _task("      ansible.builtin.shell: wget -qO- https://x/install | sh\n"),
     "ansible-pipe-to-shell"),
    ("curl-pipe-env-sh", "ansible", "roles/k3s/tasks/main.yml",
     "- name: Install\n  ansible.builtin.shell: curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC=server sh -\n",
     "ansible-pipe-to-shell"),
    ("proc-environ-glob", "ansible", "site.yml", _task("      ansible.builtin.shell: cat /proc/*/environ\n"),
     "ansible-proc-environ"),
    ("proc-self-environ-slurp", "ansible", "site.yml", _task("      ansible.builtin.slurp:\n        src: /proc/self/environ\n"),
     "ansible-proc-environ"),
    ("file-lookup-absolute", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('file', '/etc/shadow') }}\"\n"), "ansible-worker-file"),
    ("file-lookup-home", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('ansible.builtin.file', '~/.ssh/id_rsa') }}\"\n"),
     "ansible-worker-file"),
    ("copy-src-absolute", "ansible", "site.yml",
     _task("      ansible.builtin.copy:\n        src: /etc/passwd\n        dest: /tmp/p\n        mode: \"0600\"\n"),
     "ansible-worker-file"),
    ("include-vars-climb", "ansible", "site.yml",
     _task("      ansible.builtin.include_vars:\n        file: ../../secrets.yml\n"), "ansible-worker-file"),
    ("pipe-lookup", "ansible", "site.yml", _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('pipe', 'id') }}\"\n"),
     "ansible-worker-command"),
    ("env-lookup-token", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('env', 'FRACTAL_API_TOKEN') }}\"\n"), "ansible-env-lookup"),
    ("env-query-mixed", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ query('env', 'HOME', 'WM_TOKEN') }}\"\n"), "ansible-env-lookup"),
    ("env-lookup-dynamic", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('env', wanted) }}\"\n"), "ansible-env-lookup"),
    ("other-provider-env", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('env', 'EXOSCALE_API_SECRET') }}\"\n"), "ansible-env-lookup"),
    ("workspace-resource", "ansible", "site.yml",
     _task("      ansible.builtin.command: cat {{ home }}/f/fractal/exoscale.resource.yaml\n"), "ansible-workspace-read"),
    ("windmill-cache", "ansible", "site.yml",
     _task("      ansible.builtin.find:\n        paths: /tmp/windmill/cache/fractal\n"), "ansible-workspace-read"),
    ("shell-cat-shadow", "ansible", "site.yml", _task("      ansible.builtin.shell: cat /etc/shadow | head -n 3\n"),
     "ansible-shell-read"),
    ("command-service-account-token", "ansible", "site.yml",
     _task("      ansible.builtin.command: cat /var/run/secrets/kubernetes.io/serviceaccount/token\n"), "ansible-shell-read"),
    ("shell-block-redirect", "ansible", "site.yml",
     _task("      ansible.builtin.shell: |\n        set -e\n        base64 < /root/.kube/config\n"), "ansible-shell-read"),
    ("command-argv-sudo", "ansible", "site.yml",
     _task("      ansible.builtin.command:\n        argv: [sudo, -n, head, -c, \"400\", /etc/rancher/k3s/k3s.yaml]\n"),
     "ansible-shell-read"),
    ("shell-home-ssh", "ansible", "site.yml", _task("      ansible.builtin.shell: tar czf - ~/.ssh | base64 -w0\n"),
     "ansible-shell-read"),
    ("remote-delegated-read", "ansible", "site.yml",
     "- name: Play\n  hosts: all\n  tasks:\n    - name: Task\n      ansible.builtin.shell: cat /root/.config/gh/hosts.yml\n"
     "      delegate_to: localhost\n", "ansible-shell-read"),
    ("slurp-path-alias", "ansible", "site.yml",
     _task("      ansible.builtin.slurp:\n        path: /home/ops/.ssh/id_ed25519\n"), "ansible-worker-file"),
    ("fetch-inline", "ansible", "site.yml", _task("      ansible.builtin.fetch: src=/etc/ssl/private/site.key dest=keys/\n"),
     "ansible-worker-file"),
    ("k8s-privileged", "kubernetes", "pod.yaml",
     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
     "    securityContext:\n      privileged: true\n", "kubernetes-privileged"),
    ("k8s-host-network", "kubernetes", "pod.yaml",
     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers: []\n",
     "kubernetes-host-namespace"),
    ("k8s-host-pid", "kubernetes", "ds.yaml",
     "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      hostPID: true\n",
     "kubernetes-host-namespace"),
    ("k8s-host-path", "kubernetes", "pod.yaml",
     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n  - name: root\n    hostPath: {path: /}\n",
     "kubernetes-host-path"),
    ("ansible-k8s-definition", "ansible", "site.yml",
     _task("      kubernetes.core.k8s:\n        definition:\n          kind: Pod\n          spec:\n"
          "            hostNetwork: true\n"),
     "kubernetes-host-namespace"),
]

SAFE: list[PolicyCase] = [
    ("env-allowlisted", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('env', 'HOME') }}\"\n"), ""),
    ("env-own-provider", "ansible", "site.yml",
     _task("      ansible.builtin.uri:\n        url: https://rest.runpod.io\n        headers:\n"
           "          Authorization: \"Bearer {{ lookup('ansible.builtin.env', 'RUNPOD_API_KEY') }}\"\n"), ""),
    ("file-lookup-relative", "ansible", "site.yml",
     _task("      ansible.builtin.debug:\n        msg: \"{{ lookup('file', 'files/motd.txt') }}\"\n"), ""),
    ("copy-src-relative", "ansible", "site.yml",
     _task("      ansible.builtin.copy:\n        src: files/app.conf\n        dest: /etc/app.conf\n"
          "        mode: \"0644\"\n"), ""),
    ("download-then-run", "ansible", "site.yml",
     _task("      ansible.builtin.get_url:\n        url: https://get.k3s.io\n        dest: /tmp/k3s.sh\n"
          "        mode: \"0755\"\n"), ""),
    ("curl-to-file", "ansible", "site.yml",
     _task("      ansible.builtin.command: curl -fsSLo /tmp/x.tgz https://x/x.tgz\n"), ""),
    ("pipe-not-download", "ansible", "site.yml", _task("      ansible.builtin.shell: echo hello | tee /tmp/motd\n"), ""),
    ("proc-cpuinfo", "ansible", "site.yml", _task("      ansible.builtin.command: cat /proc/cpuinfo\n"), ""),
    ("remote-reads-its-own-files", "ansible", "site.yml",
     "- name: Play\n  hosts: all\n  tasks:\n    - name: Task\n      ansible.builtin.shell: cat /etc/rancher/k3s/k3s.yaml\n"
     "    - name: Token\n      ansible.builtin.command: cat /var/lib/rancher/k3s/server/node-token\n", ""),
    ("run-an-installer", "ansible", "site.yml",
     _task("      ansible.builtin.command: /tmp/k3s-install.sh --write-kubeconfig-mode 600\n"), ""),
    ("copy-into-etc", "ansible", "site.yml",
     _task("      ansible.builtin.shell: cp files/app.conf /etc/app.conf && cat files/motd > /etc/motd\n"), ""),
    ("cat-os-release", "ansible", "site.yml", _task("      ansible.builtin.shell: cat /etc/os-release /proc/meminfo\n"), ""),
    ("k8s-unprivileged", "kubernetes", "pod.yaml",
     "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: false\n  containers:\n  - name: c\n"
     "    image: busybox\n    securityContext: {privileged: false, runAsNonRoot: true}\n  volumes:\n  - name: tmp\n"
     "    emptyDir: {}\n", ""),
    ("tf-user-data-install", "terraform", "main.tf",
     'locals {\n  install = "curl -sfL https://get.k3s.io | sh -"\n}\nresource "null_resource" "x" {}\n', ""),
    ("tf-comment", "terraform", "main.tf", '# this module has no local-exec provisioner\nresource "null_resource" "x" {}\n', ""),
]
