"""Terraform drafts are grounded in the Exoscale provider's real schema (a snapshot scripts/provider_schemas.py builds
from the pulumiverse-exoscale package): unknown or deprecated types and unknown arguments are errors.

The snapshot builder runs here on a small package folder written by the test in the generated modules' shape
(tests never download); the committed snapshot is the one the checker reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

from support.paths import ROOT

import f.fractal.tools.terraform.schema_exoscale as snapshot
from f.fractal.tools.validate import validate_files

VERSIONS = ('terraform {\n  required_providers {\n    exoscale = {\n      source  = "exoscale/exoscale"\n'
            '      version = "~> 0.62"\n    }\n  }\n}\n')


def errors(main: str) -> list[str]:
    return [e["message"] for e in validate_files("terraform", {"main.tf": main, "versions.tf": VERSIONS})["errors"]]


def test_removed_unknown_types_and_arguments_are_rejected() -> None:
    found = errors('resource "exoscale_compute" "vm" {\n  zone = "ch-gva-2"\n  size = "Medium"\n}\n')
    assert any("deprecated" in e and "use exoscale_compute_instance" in e for e in found), found
    found = errors('resource "exoscale_computeinstance" "vm" {\n  zone = "ch-gva-2"\n}\n')
    assert any("does not exist" in e and "exoscale_compute_instance" in e for e in found), found
    found = errors('resource "exoscale_compute_instance" "vm" {\n  zone   = "ch-gva-2"\n  flavor = "x"\n}\n')
    assert any("unknown argument flavor" in e and "template_id" in e for e in found), found
    ok = ('resource "exoscale_nlb_service" "s" {\n  zone   = "ch-gva-2"\n  nlb_id = "x"\n  count  = 1\n\n'
          '  healthcheck {\n    port = 80\n  }\n\n  lifecycle {\n    ignore_changes = [zone]\n  }\n}\n'
          'data "exoscale_template" "os" {\n  zone = "ch-gva-2"\n  name = "Linux Debian 12 (Bookworm) 64-bit"\n}\n')
    assert not [e for e in errors(ok) if "argument" in e or "type" in e]
    assert "exoscale_sks_cluster" in snapshot.RESOURCES and "exoscale_template" in snapshot.DATA


def test_nested_block_arguments_are_checked_against_the_snapshot() -> None:
    """Nested blocks (`pg` of exoscale_dbaas, `healthcheck` of exoscale_nlb_service) have their own arguments."""
    dbaas = ('resource "exoscale_dbaas" "pg" {\n  zone = "ch-gva-2"\n  name = "pg"\n  type = "pg"\n  plan = "hobbyist-2"\n\n'
             '  pg {\n    version   = "16"\n    ip_filter = ["10.0.0.0/8"]\n  }\n}\n')
    assert not [e for e in errors(dbaas) if "argument" in e]
    found = errors(dbaas.replace("ip_filter", "allowed_ranges"))
    assert any('"exoscale_dbaas" "pg" block pg: unknown argument allowed_ranges' in e and "ip_filters" in e for e in found), found
    nlb = ('resource "exoscale_nlb_service" "s" {\n  zone   = "ch-gva-2"\n  nlb_id = "x"\n\n'
           '  healthcheck {\n    port  = 80\n    pathx = "/"\n  }\n}\n')
    found = errors(nlb)
    assert any("block healthcheck: unknown argument pathx" in e for e in found), found
    assert "exoscale_dbaas.pg" in snapshot.BLOCKS and "exoscale_nlb_service.healthchecks" in snapshot.BLOCKS


def test_the_snapshot_builder_reads_the_generated_modules(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    import provider_schemas

    package = tmp_path / "pulumiverse_exoscale"
    package.mkdir()
    (package / "compute_instance.py").write_text(
        "class ComputeInstanceArgs:\n    def __init__(__self__, *, disk_size, template_id, zone=None,\n"
        "                 network_interfaces: Optional[pulumi.Input[Sequence[pulumi.Input["
        "'ComputeInstanceNetworkInterfaceArgs']]]] = None):\n        pass\n"
        "class ComputeInstance:\n    '''docs'''\n    TOKEN = 'exoscale:index/computeInstance:ComputeInstance'\n")
    (package / "compute.py").write_text(
        "class ComputeArgs:\n    def __init__(__self__, *, size, zone):\n        pass\n"
        "X = '''!> **WARNING:** This resource is **DEPRECATED** and will be removed in the next major version. "
        "Please use ComputeInstance instead.'''\nT = 'exoscale:index/compute:Compute'\n")
    (package / "get_elastic_ip.py").write_text(
        "def get_elastic_ip(id=None, zone=None, opts=None):\n    return 'exoscale:index/getElasticIP:getElasticIP'\n")
    (package / "_inputs.py").write_text(
        "class ComputeInstanceNetworkInterfaceArgs:\n    def __init__(__self__, *, network_id, ip_address=None):\n"
        "        pass\n")
    schema = provider_schemas.build(package, "9.9.9")
    assert schema["blocks"] == {"exoscale_compute_instance.network_interfaces": ["ip_address", "network_id"]}
    assert schema["resource"] == {
        "exoscale_compute_instance": {"arguments": ["disk_size", "network_interfaces", "template_id", "zone"],
                                      "deprecated": ""},
        "exoscale_compute": {"arguments": ["size", "zone"], "deprecated": "exoscale_compute_instance"},
    }
    assert schema["data"] == {"exoscale_elastic_ip": {"arguments": ["id", "zone"], "deprecated": ""}}
