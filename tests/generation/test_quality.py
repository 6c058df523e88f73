"""The quality table (tests/generation/quality_needs.yaml) against the offline generator: nothing silently wrong.

No LLM (none is configured). Each need goes through the real offline path up to the draft and its
conformance report (generate.offline_draft); the validators are left to test_generate_offline.py
and the template tests (they take seconds per Ansible draft). The judge is tests/support/quality.py;
bench/bench_generation_quality.py prints the same figures with the validators included.
"""

from __future__ import annotations

import functools

import pytest
from support.quality import Verdict, judge, load

from f.fractal.generation.generator import offline_draft
from f.fractal.model.errors import FractalError

NEEDS = load()


@functools.cache
def verdict(index: int) -> Verdict:
    need = NEEDS[index]
    try:
        draft, template, _params, check = offline_draft(need.need)
    except FractalError as e:
        if need.template is None:
            assert e.code == "no_template" and e.hint and e.data["closest"], e.message
        return judge(need, error=e)
    draft["provenance"] = {"template": template.id}
    return judge(need, draft=draft, unused=check.unused)


def test_the_table_is_large_bilingual_and_has_needs_no_template_covers() -> None:
    assert len(NEEDS) >= 80
    assert sum(n.lang == "fr" for n in NEEDS) * 2 >= len(NEEDS)
    assert sum(n.template is None for n in NEEDS) >= 15
    assert all(n.tool in ("terraform", "ansible", "kubernetes", "secret") for n in NEEDS)


@pytest.mark.parametrize("index", range(len(NEEDS)), ids=[n.need[:40] for n in NEEDS])
def test_no_need_gets_a_silently_wrong_draft(index: int) -> None:
    """Exact, or honest about what it did not carry, or a clear no_template failure — never silently wrong."""
    found = verdict(index)
    assert found.verdict in ("exact", "honest", "refused"), f"{NEEDS[index].need!r}: {found.verdict}: {found.why}"


def test_the_offline_generator_covers_most_of_the_table_exactly() -> None:
    """A floor, so that honesty is not bought by refusing everything (the bench prints the figures)."""
    exact = sum(verdict(i).verdict == "exact" for i in range(len(NEEDS)))
    assert exact >= 0.9 * len(NEEDS), exact
