// Calls to the pack's scripts through Windmill's raw-app bridge (the generated `wmill` module), and the
// one place where Windmill's and the local server's error shapes become a FractalUiError.
//
// Every call is started with backendAsync and awaited with waitJob: the completed job carries the
// script's error object ({name, message, extra: {message, hint, data}} for a Python exception),
// which `backend.x()` would flatten into a traceback string.
import * as wmill from './wmill'

export type Job = {
  type?: 'QueuedJob' | 'CompletedJob'
  id?: string
  success?: boolean
  result?: unknown
  logs?: string
  running?: boolean
}

export class FractalUiError extends Error {
  kind: string
  hint: string
  data: Record<string, unknown>

  constructor(kind: string, message: string, hint = '', data: Record<string, unknown> = {}) {
    super(message)
    this.kind = kind
    this.hint = hint
    this.data = data
  }
}

const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
const isObject = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Any error shape → FractalUiError:
 *  - Windmill job error {name: 'Conflict', message: 'msg (hint)', stack, extra: {message, hint, data}}
 *  - local server payload {error: 'conflict', message, hint, data}
 *  - an Error whose message is one of those as JSON, a Python traceback, or plain text. */
export function toUiError(raw: unknown): FractalUiError {
  if (raw instanceof FractalUiError) return raw
  if (raw instanceof Error) {
    const text = raw.message.trim()
    if (text.startsWith('{')) {
      try {
        return toUiError(JSON.parse(text))
      } catch {
        // not JSON: fall through to the text forms
      }
    }
    const last = text.split('\n').filter((l) => l.trim()).pop() ?? text
    const m = /^([\w.]+\.)?([A-Z]\w*(Error|Input|Found|Conflict|Unreachable|Item)):\s*(.*)$/.exec(last.trim())
    return m ? new FractalUiError(snake(m[2]), m[4]) : new FractalUiError('error', text || 'unknown error')
  }
  if (isObject(raw)) {
    if (isObject(raw.error)) return toUiError(raw.error)
    const extra = isObject(raw.extra) ? raw.extra : {}
    const kind = typeof raw.error === 'string' ? raw.error : typeof raw.name === 'string' ? snake(raw.name) : 'error'
    const message = String(extra.message ?? raw.message ?? 'unknown error')
    const hint = String(extra.hint ?? raw.hint ?? '')
    const data = isObject(extra.data) ? extra.data : isObject(raw.data) ? raw.data : {}
    return new FractalUiError(kind, message, hint, data)
  }
  return new FractalUiError('error', String(raw))
}

/** Start a runnable of the app (backend/<id>.yaml) and return its job id. */
export async function start(runnable: string, args: Record<string, unknown>): Promise<string> {
  try {
    return (await (wmill.backendAsync as any)[runnable](args)) as string
  } catch (e) {
    throw toUiError(e)
  }
}

/** The job's current state (logs so far when the platform gives them). */
export async function peek(jobId: string): Promise<Job> {
  return (await wmill.getJob(jobId)) as Job
}

/** Wait for a job; its result, or a FractalUiError with the script's message, hint and data. */
export async function finish<T>(jobId: string): Promise<T> {
  let job: Job
  try {
    job = (await wmill.waitJob(jobId)) as Job
  } catch (e) {
    throw toUiError(e)
  }
  if (job.success === false) throw toUiError(job.result)
  return job.result as T
}

/** Run a runnable to completion. */
export async function call<T>(runnable: string, args: Record<string, unknown>): Promise<T> {
  return finish<T>(await start(runnable, args))
}

/** Run to completion; meanwhile `onLogs` gets the job's logs so far (Windmill's job logs: progress lines). */
export async function callFollowing<T>(runnable: string, args: Record<string, unknown>, onLogs: (logs: string) => void): Promise<T> {
  const id = await start(runnable, args)
  let live = true
  const follow = async () => {
    while (live) {
      const job = await peek(id).catch(() => null)
      if (job?.logs) onLogs(job.logs)
      if (!job || job.type === 'CompletedJob') return
      await new Promise((r) => setTimeout(r, 700))
    }
  }
  const following = follow()
  try {
    return await finish<T>(id)
  } finally {
    live = false
    await following
  }
}
