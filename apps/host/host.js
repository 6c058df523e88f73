// Windmill's side of the raw-app bridge, played locally. The app's generated `wmill` module posts
// {type: 'backend' | 'backendAsync' | 'waitJob' | 'getJob', reqId, ...} to its parent; Windmill answers
// {type: type + 'Res', reqId, result, error}. Here each runnable id maps to a pack script
// (runnables.json, from the app's backend/<id>.yaml) run on this server's Windmill URLs (same origin).
// A failed job's result has Windmill's shape: {error: {name, message, stack, extra: {message, hint, data}}}.
(() => {
  const frame = document.getElementById('app')
  const base = '/api/w/local'
  const runnables = fetch('runnables.json').then((r) => r.json())
  const done = new Map() // job id → completed Job
  let noJobGet = false // this server has no GET jobs_u/get/{id}: use get_result_maybe

  async function api(method, url, body) {
    for (let asked = false; ; asked = true) {
      const token = sessionStorage.getItem('fractal.token')
      const response = await fetch(url, {
        method,
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      if (response.status === 401 && !asked) {
        const given = prompt('Fractal API token (FRACTAL_API_TOKEN of scripts/fractal serve)')
        if (given) {
          sessionStorage.setItem('fractal.token', given)
          continue
        }
      }
      const text = await response.text()
      let data = text
      try {
        data = JSON.parse(text)
      } catch {
        // a job id or a plain text answer
      }
      return { ok: response.ok, status: response.status, data }
    }
  }

  // The local server's {error, message, hint, data} → Windmill's job error object.
  function windmillError(payload) {
    const p = payload && typeof payload === 'object' ? payload : { error: 'error', message: String(payload) }
    const message = p.hint ? `${p.message} (${p.hint})` : String(p.message ?? p.error)
    return { name: p.error ?? 'error', message, extra: { message: p.message, hint: p.hint ?? '', data: p.data ?? {} } }
  }

  async function scriptPath(runnable) {
    const path = (await runnables)[runnable]
    if (!path) throw { error: 'not_found', message: `this app has no runnable ${runnable}` }
    return path
  }

  async function getJob(id) {
    if (done.has(id)) return done.get(id)
    if (!noJobGet) {
      const got = await api('GET', `${base}/jobs_u/get/${id}`)
      if (got.ok && got.data && typeof got.data === 'object') {
        const job = got.data
        if (job.type === 'CompletedJob') done.set(id, job)
        else if (job.logs === undefined) {
          // Windmill's job carries its logs; a server with a separate logs endpoint gets them added
          const logs = await api('GET', `${base}/jobs_u/get_logs/${id}`)
          if (logs.ok) job.logs = String(logs.data)
        }
        return job
      }
      noJobGet = true
    }
    const maybe = await api('GET', `${base}/jobs_u/completed/get_result_maybe/${id}`)
    if (typeof maybe.data?.completed !== 'boolean') throw maybe.data // (a failed job may come with its error status)
    if (!maybe.data.completed) return { type: 'QueuedJob', id, running: true, logs: '' }
    const final = await api('GET', `${base}/jobs_u/completed/get_result/${id}`)
    const job = { type: 'CompletedJob', id, success: final.ok, result: final.ok ? final.data : { error: windmillError(final.data) } }
    done.set(id, job)
    return job
  }

  async function waitJob(id) {
    for (let delay = 150; ; delay = Math.min(delay * 1.5, 1000)) {
      const job = await getJob(id)
      if (job.type === 'CompletedJob') return job
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }

  const handlers = {
    async backend({ runnable_id, v }) {
      const r = await api('POST', `${base}/jobs/run_wait_result/p/${await scriptPath(runnable_id)}`, v ?? {})
      if (!r.ok) throw r.data
      return r.data
    },
    async backendAsync({ runnable_id, v }) {
      const r = await api('POST', `${base}/jobs/run/p/${await scriptPath(runnable_id)}`, v ?? {})
      if (!r.ok) throw r.data
      return String(r.data)
    },
    waitJob: ({ jobId }) => waitJob(jobId),
    getJob: ({ jobId }) => getJob(jobId),
  }

  window.addEventListener('message', async (event) => {
    if (event.source !== frame.contentWindow || !event.data || !(event.data.type in handlers)) return
    const { type, reqId } = event.data
    let answer
    try {
      answer = { result: await handlers[type](event.data), error: false }
    } catch (e) {
      answer = { result: windmillError(e), error: true }
    }
    frame.contentWindow.postMessage({ type: `${type}Res`, reqId, ...answer }, '*')
  })
})()
