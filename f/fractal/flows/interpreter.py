"""The local flow runner: executes the OpenFlow subset Fractal generates, outside Windmill.

Supported: `script` steps (a pack script's `main`, by Windmill path), `flow` steps (nested flows,
by path), `branchall` (parallel branches run in threads), `branchone`, `forloopflow`,
`whileloopflow`, `identity`; `static` and `javascript` input transforms (evaluated by QuickJS with
`flow_input`, `results`, `previous_result`, `flow_input.iter` in loops), `skip_if`,
`stop_after_if` (with `error_message` = fail), `continue_on_error`, and the flow schema's defaults,
required inputs and enums. `rawscript` and `aiagent` steps are refused with a clear error.

The result has one entry per step at every level (nested flows, branches and loop iterations hold
their own `steps`), and a failing step stops its flow with that step named (`failed_step`, a path
such as `platform.base.motd`). `execution.composite` runs a composite's flow with it.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from f.fractal.model.errors import FractalError, InvalidInput, NotFound, StepFailed
from f.fractal.platform.scripts import load_main

JS_TIME_LIMIT_S = 5
MAX_WHILE_ITERATIONS = 1000
MAX_FLOW_DEPTH = 25

ScriptFn = Callable[..., Any]
FlowLoader = Callable[[str], dict[str, Any]]


class _Stop(Exception):
    """stop_after_if without an error: end the current flow early with `result`."""

    def __init__(self, result: Any) -> None:
        super().__init__("stopped")
        self.result = result


# ------------------------------------------------------------------ JavaScript scope


class Scope:
    """What an input transform can see; a QuickJS context created lazily in the thread that uses it."""

    def __init__(self, flow_input: dict[str, Any], results: dict[str, Any] | None = None, previous: Any = None) -> None:
        self.flow_input = flow_input
        self.results: dict[str, Any] = dict(results or {})
        self.previous = previous
        self._ctx: Any = None
        self._dirty = True

    def child(self, **extra_input: Any) -> Scope:
        return Scope({**self.flow_input, **extra_input}, self.results, self.previous)

    def record(self, step_id: str, result: Any) -> None:
        self.results[step_id] = result
        self.previous = result
        self._dirty = True

    def eval(self, expr: str, **extra: Any) -> Any:
        import quickjs

        if self._ctx is None:
            self._ctx = quickjs.Context()
            self._ctx.set_time_limit(JS_TIME_LIMIT_S)
        ctx = self._ctx
        if self._dirty:
            for name, value in (("flow_input", self.flow_input), ("results", self.results), ("previous_result", self.previous)):
                ctx.set(name, ctx.parse_json(json.dumps(value, default=str)))
            self._dirty = False
        for name, value in extra.items():
            ctx.set(name, ctx.parse_json(json.dumps(value, default=str)))
        try:
            text = ctx.eval(f"JSON.stringify(({expr}))")
        except Exception as e:  # _quickjs.JSException: a syntax error, a ReferenceError, a time-out
            raise InvalidInput(f"expression {expr!r:.120} failed: {str(e).splitlines()[0]}") from None
        return None if text is None else json.loads(text)


# ------------------------------------------------------------------ records


@dataclass
class StepRecord:
    id: str
    type: str
    summary: str = ""
    path: str = ""
    status: str = "ok"  # ok | failed | skipped | stopped
    started: float = 0.0
    duration_s: float = 0.0
    own_s: float = 0.0  # time inside the script's main (the step's own run), 0 for containers
    result: Any = None
    error: str = ""
    steps: list[StepRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "status": self.status, "duration_s": round(self.duration_s, 4)}
        for key in ("summary", "path", "error"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.type == "script":
            out["result"] = self.result
        if self.steps:
            out["steps"] = [s.to_dict() for s in self.steps]
        return out


def own_time(records: list[StepRecord]) -> float:
    """Total time spent inside scripts' mains, at every level."""
    return sum(r.own_s + own_time(r.steps) for r in records)


def count_scripts(records: list[StepRecord]) -> int:
    """Script steps that ran (a skipped one, e.g. a teardown step outside destroy, is not counted)."""
    return sum((1 if r.type == "script" and r.status != "skipped" else 0) + count_scripts(r.steps) for r in records)


# ------------------------------------------------------------------ the runner


def _call(fn: ScriptFn, args: dict[str, Any]) -> Any:
    params = inspect.signature(fn).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        args = {k: v for k, v in args.items() if k in params}  # like Windmill: undeclared args are dropped
    return fn(**args)


def apply_schema(schema: dict[str, Any] | None, args: dict[str, Any], where: str = "flow") -> dict[str, Any]:
    """Fill schema defaults, refuse a missing required input or a value outside an enum (before any step runs)."""
    schema = schema or {}
    props = schema.get("properties") or {}
    out = dict(args)
    for name, prop in props.items():
        if out.get(name) is None and "default" in prop:
            out[name] = json.loads(json.dumps(prop["default"]))
    missing = [n for n in schema.get("required") or [] if out.get(n) is None]
    if missing:
        raise InvalidInput(f"{where} needs {', '.join(missing)}",
                           hint=" ".join(f"{n}: {props.get(n, {}).get('description', '')}".strip() for n in missing))
    for name, prop in props.items():
        if prop.get("enum") and out.get(name) is not None and out[name] not in prop["enum"]:
            raise InvalidInput(f"{where}: {name} must be one of {', '.join(map(str, prop['enum']))}, got {out[name]!r:.40}")
    return out


class FlowRunner:
    """Runs flows. `scripts` overrides script paths with callables; `flows` loads a flow by path."""

    def __init__(
        self,
        *,
        scripts: dict[str, ScriptFn] | None = None,
        flows: FlowLoader | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.scripts = dict(scripts or {})
        self.flows = flows
        self.on_event = on_event or (lambda _line: None)
        self.log: list[str] = []

    def _say(self, line: str) -> None:
        self.log.append(line)
        self.on_event(line)

    # ---- entry point

    def run(self, flow: dict[str, Any], args: dict[str, Any], name: str = "flow") -> dict[str, Any]:
        """Run a flow document; returns {status, result, steps, failed_step?, error?, duration_s}."""
        started = time.perf_counter()
        flow_input = apply_schema(flow.get("schema"), args, name)
        records: list[StepRecord] = []
        status, result, failed, error = "ok", None, "", ""
        try:
            result = self._modules(flow["value"].get("modules", []), Scope(flow_input), records, "", 0)
        except _Stop as stop:
            status, result = "stopped", stop.result
        except StepFailed as e:
            status, failed, error = "failed", e.path, e.step_message
        out: dict[str, Any] = {"status": status, "result": result, "steps": records, "duration_s": time.perf_counter() - started}
        if failed:
            out.update(failed_step=failed, error=error)
        return out

    # ---- module lists and modules

    def _modules(self, modules: list[dict[str, Any]], scope: Scope, records: list[StepRecord], prefix: str, depth: int) -> Any:
        for module in modules:
            record = StepRecord(id=module["id"], type=module["value"].get("type", ""), summary=module.get("summary", ""))
            records.append(record)
            result = self._module(module, scope, record, prefix, depth)
            scope.record(module["id"], result)
        return scope.previous

    def _module(self, module: dict[str, Any], scope: Scope, record: StepRecord, prefix: str, depth: int) -> Any:
        path = f"{prefix}{module['id']}"
        record.started = time.time()
        t0 = time.perf_counter()
        try:
            if module.get("skip_if") and scope.eval(module["skip_if"]["expr"]):
                record.status = "skipped"
                self._say(f"- {path} skipped")
                return None
            result = self._value(module, scope, record, path, depth)
        except _Stop:
            raise
        except StepFailed as e:
            record.status, record.error = "failed", e.step_message
            if module.get("continue_on_error"):
                return {"error": {"message": e.step_message, "step_id": e.path}}
            raise
        except FractalError as e:
            return self._fail(module, record, path, str(e))
        except Exception as e:  # a script raised: the step failed, the run reports it
            return self._fail(module, record, path, f"{type(e).__name__}: {e}")
        finally:
            record.duration_s = time.perf_counter() - t0
        record.result = result
        stop = module.get("stop_after_if")
        if stop and module["value"].get("type") != "whileloopflow" and scope.eval(stop["expr"], result=result):
            message = stop.get("error_message")
            if message is not None:
                detail = result.get("error") or result.get("failed_task") if isinstance(result, dict) else None
                message = (message or f"step {path} stopped the flow") + (f": {str(detail)[:300]}" if detail else "")
                record.status, record.error = "failed", message
                self._say(f"✗ {path}: {record.error}")
                raise StepFailed(path, record.error)
            record.status = "stopped"
            raise _Stop(result)
        return result

    def _fail(self, module: dict[str, Any], record: StepRecord, path: str, message: str) -> Any:
        record.status, record.error = "failed", message
        self._say(f"✗ {path}: {message}")
        if module.get("continue_on_error"):
            return {"error": {"message": message, "step_id": path}}
        raise StepFailed(path, message)

    def _value(self, module: dict[str, Any], scope: Scope, record: StepRecord, path: str, depth: int) -> Any:
        value = module["value"]
        kind = value.get("type")
        if kind == "script":
            return self._script(value, scope, record, path)
        if kind == "flow":
            return self._subflow(value, scope, record, path, depth)
        if kind == "identity":
            return scope.previous
        if kind == "branchall":
            return self._branchall(value, scope, record, path, depth)
        if kind == "branchone":
            return self._branchone(value, scope, record, path, depth)
        if kind == "forloopflow":
            return self._forloop(value, scope, record, path, depth)
        if kind == "whileloopflow":
            return self._whileloop(value, scope, record, path, depth, module.get("stop_after_if"))
        raise InvalidInput(f"{kind} steps are not run by the local flow runner",
                           hint="it runs script, flow, branchall, branchone, forloopflow, whileloopflow and identity steps")

    def _args(self, value: dict[str, Any], scope: Scope) -> dict[str, Any]:
        args: dict[str, Any] = {}
        for name, transform in (value.get("input_transforms") or {}).items():
            if transform.get("type") == "static":
                args[name] = transform.get("value")
            elif transform.get("type") == "javascript":
                args[name] = scope.eval(transform["expr"])
            else:
                raise InvalidInput(f"input transform {transform.get('type')!r} of {name} is not supported locally")
        return args

    def _script(self, value: dict[str, Any], scope: Scope, record: StepRecord, path: str) -> Any:
        record.path = value["path"]
        fn = self.scripts.get(value["path"]) or load_main(value["path"])
        args = self._args(value, scope)
        self._say(f"▶ {path} {value['path']}" + (f" {args['ref']}" if isinstance(args.get("ref"), str) else ""))
        t0 = time.perf_counter()
        try:
            result = _call(fn, args)
        finally:
            record.own_s = time.perf_counter() - t0
        status = result.get("status") if isinstance(result, dict) else None
        self._say(f"  {path}: {status or 'done'} in {record.own_s:.2f}s")
        return result

    def _subflow(self, value: dict[str, Any], scope: Scope, record: StepRecord, path: str, depth: int) -> Any:
        record.path = value["path"]
        if depth >= MAX_FLOW_DEPTH:
            raise InvalidInput(f"flows nested deeper than {MAX_FLOW_DEPTH} levels at {path}")
        if self.flows is None:
            raise NotFound(f"no flow loader to run {value['path']}")
        flow = self.flows(value["path"])
        args = apply_schema(flow.get("schema"), self._args(value, scope), value["path"])
        self._say(f"▶ {path} flow {value['path']}")
        try:
            return self._modules(flow["value"].get("modules", []), Scope(args), record.steps, f"{path}.", depth + 1)
        except _Stop as stop:
            return stop.result

    def _branchall(self, value: dict[str, Any], scope: Scope, record: StepRecord, path: str, depth: int) -> Any:
        branches = value.get("branches", [])
        holders = [StepRecord(id=f"branch_{i}", type="branch", summary=b.get("summary", "")) for i, b in enumerate(branches)]
        record.steps = holders

        def one(i: int) -> Any:
            holder = holders[i]
            t0 = time.perf_counter()
            try:
                return self._modules(branches[i]["modules"], scope.child(), holder.steps, f"{path}.", depth)
            except StepFailed as e:
                holder.status, holder.error = "failed", e.step_message
                if branches[i].get("skip_failure"):
                    return {"error": {"message": e.step_message, "step_id": e.path}}
                raise
            finally:
                holder.duration_s = time.perf_counter() - t0

        if value.get("parallel") and len(branches) > 1:
            with ThreadPoolExecutor(max_workers=min(len(branches), 8)) as pool:
                futures = [pool.submit(one, i) for i in range(len(branches))]
                outcomes = []
                for future in futures:
                    try:
                        outcomes.append(future.result())
                    except StepFailed as e:
                        outcomes.append(e)
                failure = next((o for o in outcomes if isinstance(o, StepFailed)), None)
                if failure:
                    raise failure
                return outcomes
        return [one(i) for i in range(len(branches))]

    def _branchone(self, value: dict[str, Any], scope: Scope, record: StepRecord, path: str, depth: int) -> Any:
        chosen, modules = "default", value.get("default", [])
        for i, branch in enumerate(value.get("branches", [])):
            if scope.eval(branch["expr"]):
                chosen, modules = f"branch_{i}", branch["modules"]
                break
        holder = StepRecord(id=chosen, type="branch")
        record.steps = [holder]
        return self._modules(modules, scope.child(), holder.steps, f"{path}.", depth)

    def _iteration(
        self, value: dict[str, Any], scope: Scope, record: StepRecord, path: str, depth: int, index: int, item: Any
    ) -> Any:
        holder = StepRecord(id=f"iter_{index}", type="iteration")
        record.steps.append(holder)
        inner = scope.child(iter={"index": index, "value": item})
        try:
            return self._modules(value["modules"], inner, holder.steps, f"{path}[{index}].", depth)
        except StepFailed as e:
            holder.status, holder.error = "failed", e.step_message
            if value.get("skip_failures"):
                return None
            raise

    def _forloop(self, value: dict[str, Any], scope: Scope, record: StepRecord, path: str, depth: int) -> Any:
        items = self._args({"input_transforms": {"it": value["iterator"]}}, scope)["it"]
        if not isinstance(items, list):
            raise InvalidInput(f"{path}: the iterator gave {type(items).__name__}, not an array")
        return [self._iteration(value, scope, record, path, depth, i, item) for i, item in enumerate(items)]

    def _whileloop(
        self, value: dict[str, Any], scope: Scope, record: StepRecord, path: str, depth: int, stop: dict[str, Any] | None
    ) -> Any:
        out: list[Any] = []
        for i in range(MAX_WHILE_ITERATIONS):
            try:
                result = self._iteration(value, scope, record, path, depth, i, i)
            except _Stop as stopped:
                out.append(stopped.result)
                return out
            out.append(result)
            if stop and scope.eval(stop["expr"], result=result):
                if stop.get("error_message") is not None:
                    raise StepFailed(path, stop["error_message"] or f"step {path} stopped the flow")
                return out
        raise InvalidInput(f"{path}: while loop did not stop after {MAX_WHILE_ITERATIONS} iterations")


# ------------------------------------------------------------------ composites (the run_item branch)
