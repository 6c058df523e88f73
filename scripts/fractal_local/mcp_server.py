"""MCP: the pack's lifecycle as tools for AI agents, over stdio (`scripts/fractal mcp`) or HTTP (`/mcp`).

Built with the official MCP Python SDK (low-level `Server`). One tool per public script, named after
it, its input schema and description taken from the script's `.script.yaml` (the source OpenAPI
uses too), plus the job tools (start_job, get_job, get_job_logs, list_jobs, cancel_job). Each call
runs as a job of the local runtime, in a process of its own, as a Windmill worker would.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
from mcp.server import Server, ServerRequestContext

from fractal_local import __version__
from fractal_local.contracts import Script, scripts
from fractal_local.jobs import STATUSES, Jobs
from fractal_local.runner import error_payload

# Scripts that are steps of compiled flows, not operations an agent calls.
INTERNAL = {"f/fractal/pipeline_result"}
READ_ONLY = {"get_item", "list_items", "item_history", "list_providers"}
DESTRUCTIVE = {"delete_item", "run_item"}
# When to reach for each tool: the first thing an agent reads.
USE_WHEN = {
    "list_items": "Use first to find what the catalog already has before generating or composing anything.",
    "get_item": "Use to read one item (its spec and tool files) by ref, e.g. entity:k3s-cluster.",
    "item_history": "Use to see an item's versions and who saved them.",
    "save_item": "Use to store a validated draft (from generate_entity, refine_entity or compose_*) in the catalog.",
    "delete_item": "Use only when asked to remove an item; a pipeline that uses it blocks the delete unless forced.",
    "sync_catalog": "Use after a save reported an unreachable target, to push what was kept aside.",
    "generate_entity": "Use when list_items has no entity for a need: returns a validated draft (not saved unless save=true).",
    "refine_entity": "Use to change a draft from generate_entity with a plain-words message.",
    "compose_pipeline": "Use to chain existing entities into a pipeline; gaps tell which entity to generate first.",
    "compose_meta_pipeline": "Use to chain pipelines into a meta-pipeline.",
    "list_providers": "Use before run_item to choose a provider that fits an item and has its credentials.",
    "run_item": "Use to run (plan/check/apply/destroy) an item on a provider; long runs: start_job with this script.",
    "deploy_flow": "Use inside Windmill to deploy a composite's compiled flow.",
    "compile_playbook": "Use to turn an Ansible entity into a Windmill playbook script.",
}
_JOB_ID = {"type": "string", "description": "The job id returned by start_job."}
JOB_TOOLS: dict[str, tuple[str, dict[str, Any]]] = {
    "start_job": ("Start any of the tools' scripts as a background job and return its id at once; follow it with "
                  "get_job and get_job_logs, stop it with cancel_job. Use for run_item and other long calls.",
                  {"type": "object", "required": ["script", "args"], "properties": {
                      "script": {"type": "string", "description": "The tool to run, e.g. run_item or f/fractal/run_item."},
                      "args": {"type": "object", "description": "The tool's arguments."},
                      "callback_url": {"type": "string", "description": "Optional URL to POST the final status to "
                                                                         "(on a host the server allows)."},
                      "timeout": {"type": "number", "exclusiveMinimum": 0,
                                  "description": "Optional time limit in seconds, below the script's own; past it "
                                                 "the job is stopped and canceled by timeout."}}}),
    "get_job": ("A job's status (queued, running, success, failure, canceled), timings and, once completed, its result.",
                {"type": "object", "required": ["id"], "properties": {"id": _JOB_ID}}),
    "get_job_logs": ("The logs a job has printed so far (the tool's output, with secrets masked by the pack).",
                     {"type": "object", "required": ["id"], "properties": {"id": _JOB_ID}}),
    "list_jobs": ("Recent jobs, newest first, filtered by script and status.",
                  {"type": "object", "properties": {
                      "script": {"type": "string", "description": "Only jobs of this script, e.g. run_item."},
                      "status": {"type": "string", "enum": ["", *STATUSES], "description": "Only jobs in this status."},
                      "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}}}),
    "cancel_job": ("Cancel a queued or running job (its process group is stopped).",
                   {"type": "object", "required": ["id"], "properties": {
                       "id": _JOB_ID, "reason": {"type": "string", "description": "Why, kept in the job's error."}}}),
}


def public_tools() -> dict[str, Script]:
    return {s.name: s for s in scripts().values() if s.path not in INTERNAL}


def tool_list() -> list[types.Tool]:
    tools = []
    for name, script in public_tools().items():
        description = "\n\n".join(p for p in (script.summary + ".", USE_WHEN.get(name, ""), script.description) if p)
        annotations = types.ToolAnnotations(read_only_hint=name in READ_ONLY, destructive_hint=name in DESTRUCTIVE,
                                            idempotent_hint=name in READ_ONLY)
        tools.append(types.Tool(name=name, title=script.summary, description=description, input_schema=script.schema,
                                annotations=annotations))
    for name, (description, schema) in JOB_TOOLS.items():
        tools.append(types.Tool(name=name, description=description, input_schema=schema))
    return tools


def _text(value: Any, error: bool = False) -> types.CallToolResult:
    structured = value if isinstance(value, dict) else {"result": value}
    return types.CallToolResult(content=[types.TextContent(text=json.dumps(value, default=str, ensure_ascii=False))],
                                structured_content=structured, is_error=error)


async def call_tool(jobs: Jobs, name: str, args: dict[str, Any]) -> types.CallToolResult:
    """Run one tool call as a job (or a job operation) and answer its result, or its error with is_error."""
    try:
        if name in public_tools():
            job = await jobs.wait(jobs.submit(public_tools()[name].path, args))
            return _text(job.result) if job.status == "success" else _text(job.error, error=True)
        if name == "start_job":
            script = str(args.get("script", ""))
            path = script if "/" in script else f"f/fractal/{script}"
            job = jobs.submit(path, dict(args.get("args") or {}), callback_url=str(args.get("callback_url") or ""),
                              timeout=args.get("timeout"))
            return _text(job.to_dict())
        if name == "get_job":
            return _text(jobs.get(str(args.get("id", ""))).to_dict(with_result=True))
        if name == "get_job_logs":
            return _text({"id": args.get("id"), "logs": jobs.logs(str(args.get("id", "")))})
        if name == "list_jobs":
            script = str(args.get("script") or "")
            rows = jobs.list(script if "/" in script or not script else f"f/fractal/{script}",
                             str(args.get("status") or ""), limit=int(args.get("limit") or 50))
            return _text({"jobs": [j.to_dict() for j in rows]})
        if name == "cancel_job":
            return _text((await jobs.cancel(str(args.get("id", "")), str(args.get("reason") or ""))).to_dict())
    except Exception as exc:  # a refused call is the tool's answer, for the agent to correct
        return _text(error_payload(exc), error=True)
    return _text({"error": "not_found", "message": f"no tool {name}", "hint": "tools/list shows them"}, error=True)


def build(jobs: Jobs) -> Server[Any]:
    """The MCP server, answering with the given job runtime."""

    async def on_list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
                            ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tool_list())

    async def on_call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        return await call_tool(jobs, params.name, dict(params.arguments or {}))

    return Server("fractal", version=__version__, title="Fractal",
                  instructions="Fractal keeps infrastructure (Terraform, Ansible, Kubernetes) as versioned items in Git "
                               "catalogs. Search with list_items first; generate_entity or compose_pipeline only for gaps; "
                               "save_item to keep a draft; list_providers then run_item to run it.",
                  on_list_tools=on_list_tools, on_call_tool=on_call_tool)


async def serve_stdio() -> None:
    """`scripts/fractal mcp`: the MCP server on this process's stdin and stdout."""
    from mcp.server.stdio import stdio_server

    jobs = Jobs()
    await jobs.start()
    server = build(jobs)
    try:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        await jobs.stop()
