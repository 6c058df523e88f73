"""The scripted-LLM table (tests/support/scripted_model.py): 30 needs through the LLM path, each answered by a
SCRIPTED mediocre model (a loopback OpenAI-compatible server, tests/support/llm_server.py) with one realistic
mistake that it fixes only when the feedback names it. Everything else is real: litellm, the prompt, the parser,
the validators, the provider schema, the conformance check. bench/bench_generation_llm.py prints the figures.
"""

from __future__ import annotations

from support.llm_server import ScriptedLLM
from support.scripted_model import MISTAKES, TABLE, MediocreModel, score


def test_the_repair_loop_gets_most_of_the_table_valid_and_conformant(use_llm: object) -> None:
    with ScriptedLLM([MediocreModel()]) as server:
        outcomes = score(server.config)
    assert len(outcomes) == len(TABLE) == 30
    passed = [o for o in outcomes if o.ok]
    assert len(passed) >= 25, [(o.need, o.mistake, o.why) for o in outcomes if not o.ok]
    for o in outcomes:  # a model that never fixes its mistake fails clearly, within the attempts
        if not MISTAKES[o.mistake].fixed_by and "stubborn" in o.mistake:
            assert not o.ok and o.attempts == 3 and "generation_failed" in o.why, o
    assert {o.mistake for o in passed if o.attempts > 1} >= {m for m in MISTAKES if MISTAKES[m].fixed_by}
