// Catalog explorer: search the catalogs, inspect an item (summary, README, graph, files, history with diffs,
// used by) and run it on a provider chosen at launch, with live step progress.
import { useEffect, useState } from 'react'
import { call, callFollowing, toUiError, type FractalUiError } from '/ui/bridge'
import {
  Busy,
  DiffLines,
  ErrorBanner,
  FileTabs,
  Graph,
  Panel,
  PROVIDERS,
  Select,
  Shell,
  Tabs,
  TOOLS,
  useAction,
  type Step,
  type Target,
} from '/ui/components'
import { itemText, lineDiff } from '/ui/diff'
import { Markdown } from '/ui/markdown'
import { useT } from '/ui/i18n'

type Row = { ref: string; kind: string; name: string; version: string; description: string; tool?: string; tags: string[]; steps?: Step[]; targets: string[] }
type Item = { kind: string; metadata: Record<string, any>; spec: Record<string, any> }
type Resolved = { ref: string; item: Item; target: string; commit: string; readme?: string }
type Credential = { resource_type: string; path: string; env: string[]; resources: string[] }
type ProviderRow = {
  name: string
  title: string
  tools: string[]
  fits: boolean
  credentials: { required: boolean; present: boolean; message?: string }
  credential: Credential | null
}
type Providers = { fixed: string | null; choices: string[]; providers: ProviderRow[]; tool: string | null; item_credentials?: Credential[] }
type RunStep = { id: string; status: string; duration_s?: number; summary?: string; result?: any; steps?: RunStep[] }
type RunResult = { status: string; outputs?: Record<string, unknown>; error?: string; log?: string; steps?: RunStep[]; duration_s?: number; failed_step?: string }
type RunRecord = { ref: string; provider: string; mode: string; status: string; duration?: number }

const KINDS = ['', 'entity', 'pipeline', 'meta-pipeline']
const slug = (kind: string) => (kind === 'Entity' ? 'entity' : kind === 'Pipeline' ? 'pipeline' : 'meta-pipeline')

export default function App() {
  return (
    <Shell title="catalogExplorer">
      <Explorer />
    </Shell>
  )
}

function Explorer() {
  const t = useT()
  const [query, setQuery] = useState('')
  const [kind, setKind] = useState('')
  const [tool, setTool] = useState('')
  const [provider, setProvider] = useState('')
  const [tag, setTag] = useState('')
  const [target, setTarget] = useState('')
  const [targets, setTargets] = useState<Target[]>([])
  const [rows, setRows] = useState<Row[] | null>(null)
  const [selected, setSelected] = useState<Row | null>(null)
  const [runs, setRuns] = useState<RunRecord[]>([])
  const action = useAction()
  const scope = target ? [target] : []

  const search = () =>
    action.run(async () => {
      const args = { query, kind, tool, provider, tags: tag ? [tag] : [], targets: scope, limit: 100 }
      setRows((await call<{ items: Row[] }>('list_items', args)).items)
    })

  useEffect(() => {
    call<{ targets: Target[] }>('list_targets', {}).then((r) => setTargets(r.targets)).catch(() => setTargets([]))
    search()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])

  return (
    <>
      <Panel title={t('search')}>
        <form
          className="chips"
          role="search"
          onSubmit={(e) => {
            e.preventDefault()
            search()
          }}
        >
          <div className="field inline">
            <label htmlFor="q">{t('search')}</label>
            <input id="q" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="k3s, motd, checksum…" />
          </div>
          <Select label={t('kind')} value={kind} onChange={setKind} options={KINDS.map((v) => ({ value: v, label: v || t('all') }))} />
          <Select label={t('tool')} value={tool} onChange={setTool} options={TOOLS.map((v) => ({ value: v, label: v || t('all') }))} />
          <Select label={t('provider')} value={provider} onChange={setProvider} options={PROVIDERS.map((v) => ({ value: v, label: v || t('all') }))} />
          <div className="field inline">
            <label htmlFor="tag">{t('tag_')}</label>
            <input id="tag" value={tag} onChange={(e) => setTag(e.target.value)} size={10} />
          </div>
          <Select
            label={t('target')}
            value={target}
            onChange={setTarget}
            options={[{ value: '', label: t('all') }, ...targets.map((x) => ({ value: x.path, label: x.path }))]}
          />
          <button type="submit" className="primary">
            {t('find')}
          </button>
        </form>
        <Busy when={action.busy} label={t('loading')} />
        <ErrorBanner error={action.error} />
      </Panel>
      <div className="columns explorer">
        <Panel title={`${t('results')} (${rows?.length ?? 0})`}>
          {rows && !rows.length && <p>{t('noResults')}</p>}
          <ul className="list">
            {(rows ?? []).map((r) => (
              <li key={r.ref}>
                <button type="button" aria-current={selected?.ref === r.ref} onClick={() => setSelected(r)}>
                  <code>{r.ref}</code> <span className="muted">{r.tool ?? r.kind}</span>
                  <br />
                  <span className="muted">{r.description}</span>
                </button>
              </li>
            ))}
          </ul>
        </Panel>
        {selected && (
          <Detail
            key={selected.ref}
            row={selected}
            targets={scope}
            onRun={(r) => setRuns((old) => [r, ...old])}
          />
        )}
      </div>
      <Panel title={t('runs')}>
        <table>
          <thead>
            <tr>
              <th scope="col">ref</th>
              <th scope="col">{t('provider')}</th>
              <th scope="col">{t('mode')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('duration')}</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r, i) => (
              <tr key={i}>
                <td><code>{r.ref}</code></td>
                <td>{r.provider}</td>
                <td>{r.mode}</td>
                <td className={r.status === 'success' ? 'ok' : 'bad'}>{r.status}</td>
                <td>{r.duration?.toFixed(1)} s</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Panel>
    </>
  )
}

type Users = { ref: string; users: { ref: string; depth: number; via: string; steps: string[]; pins: string[] }[] }

function Detail({ row, targets, onRun }: { row: Row; targets: string[]; onRun: (r: RunRecord) => void }) {
  const t = useT()
  const [resolved, setResolved] = useState<Resolved | null>(null)
  const [error, setError] = useState<FractalUiError | null>(null)
  useEffect(() => {
    call<Resolved>('get_item', { ref: row.ref, targets }).then(setResolved, (e) => setError(toUiError(e)))
  }, [row.ref])
  const item = resolved?.item
  const tabs = [t('details'), t('readme'), ...(item?.spec.steps ? [t('graph')] : [t('files')]), t('history'), t('usedBy')]
  return (
    <div>
      <Panel title={row.ref}>
        <ErrorBanner error={error} />
        {item && (
          <Tabs
            names={tabs}
            label={t('details')}
            render={(tab) =>
              tab === t('details') ? (
                <Summary resolved={resolved!} />
              ) : tab === t('readme') ? (
                <Markdown text={resolved!.readme ?? ''} label={`${t('readme')} ${row.ref}`} />
              ) : tab === t('graph') ? (
                <Graph steps={item.spec.steps} />
              ) : tab === t('files') ? (
                <FileTabs files={item.spec.files ?? {}} />
              ) : tab === t('history') ? (
                <History row={row} targets={targets} />
              ) : (
                <UsedBy row={row} targets={targets} />
              )
            }
          />
        )}
      </Panel>
      {resolved && <Launch resolved={resolved} targets={targets} onRun={onRun} />}
    </div>
  )
}

/** The composites that use the item, directly or through other composites (the item_users script). */
function UsedBy({ row, targets }: { row: Row; targets: string[] }) {
  const t = useT()
  const [users, setUsers] = useState<Users | null>(null)
  const [error, setError] = useState<FractalUiError | null>(null)
  useEffect(() => {
    call<Users>('item_users', { ref: row.ref, targets }).then(setUsers, (e) => setError(toUiError(e)))
  }, [row.ref])
  if (error) return <ErrorBanner error={error} />
  if (!users) return <p className="muted">{t('loading')}</p>
  return (
    <ul className="used-by">
      {users.users.length === 0 && <li>—</li>}
      {users.users.map((u) => (
        <li key={u.ref} data-depth={u.depth}>
          <code>{u.ref}</code>{' '}
          <span className="muted">
            {u.depth === 1 ? `${t('steps').toLowerCase()}: ${u.steps.join(', ')} (${u.pins.join(', ')})` : `${t('via')} ${u.via}`}
          </span>
        </li>
      ))}
    </ul>
  )
}

/** What the item's README says: description, providers, inputs and outputs. */
function Summary({ resolved }: { resolved: Resolved }) {
  const t = useT()
  const { item } = resolved
  const props = Object.entries((item.spec.inputs?.properties ?? {}) as Record<string, any>)
  const outputs = Object.entries((item.spec.outputs ?? {}) as Record<string, any>)
  return (
    <div className="readme-view">
      <p>{item.metadata.description}</p>
      <p className="muted">
        {item.spec.tool ?? item.kind} · {(item.spec.providers ?? []).join(', ')} · {resolved.target} @{' '}
        <code className="sha">{resolved.commit.slice(0, 10)}</code>
      </p>
      <table>
        <caption>{t('inputs')}</caption>
        <tbody>
          {props.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{v.type}</td>
              <td>{v.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {outputs.length > 0 && (
        <table>
          <caption>{t('outputs')}</caption>
          <tbody>
            {outputs.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{v?.description ?? v?.from ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}

function History({ row, targets }: { row: Row; targets: string[] }) {
  const t = useT()
  const [entries, setEntries] = useState<any[]>([])
  const [diff, setDiff] = useState<{ from: string; to: string; lines: ReturnType<typeof lineDiff> } | null>(null)
  const name = row.ref.split('@')[0]
  useEffect(() => {
    call<{ targets: { entries: any[] }[] }>('item_history', { ref: name, targets }).then((h) => setEntries(h.targets[0]?.entries ?? []))
  }, [name])
  const compare = async (older: string) => {
    const [a, b] = await Promise.all(
      [older, row.version].map((v) => call<Resolved>('get_item', { ref: `${name}@${v}`, targets }).then((r) => r.item)),
    )
    setDiff({ from: older, to: row.version, lines: lineDiff(itemText(a), itemText(b)) })
  }
  return (
    <>
      <table>
        <thead>
          <tr>
            <th scope="col">{t('version')}</th>
            <th scope="col">{t('commit')}</th>
            <th scope="col">{t('author')}</th>
            <th scope="col">{t('when')}</th>
            <th scope="col"></th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.commit}>
              <td>{e.version}</td>
              <td><code>{String(e.commit).slice(0, 10)}</code></td>
              <td>{e.author}</td>
              <td>{e.time}</td>
              <td>
                {e.version !== row.version && e.action === 'save' && (
                  <button type="button" onClick={() => compare(e.version)}>
                    {t('compareWith')} {row.version}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {diff && <DiffLines label={`${diff.from} → ${diff.to}`} lines={diff.lines} />}
    </>
  )
}

function inputDefaults(schema: any): Record<string, string> {
  return Object.fromEntries(
    Object.entries((schema?.properties ?? {}) as Record<string, any>).map(([k, v]) => [
      k,
      v.default === undefined ? '' : typeof v.default === 'string' ? v.default : JSON.stringify(v.default),
    ]),
  )
}

function parseInput(text: string, prop: any): unknown {
  if (prop?.type === 'string' || prop?.type === undefined) return text
  if (prop?.type === 'boolean') return text === 'true'
  return JSON.parse(text)
}

/** A launch form from the item's input schema, provider choice with reasons, live progress. */
function Launch({ resolved, targets, onRun }: { resolved: Resolved; targets: string[]; onRun: (r: RunRecord) => void }) {
  const t = useT()
  const { item } = resolved
  const schema = item.spec.inputs ?? {}
  const [values, setValues] = useState<Record<string, string>>(() => inputDefaults(schema))
  const [providers, setProviders] = useState<Providers | null>(null)
  const [provider, setProvider] = useState('')
  const [mode, setMode] = useState('apply')
  const [picks, setPicks] = useState<Record<string, string>>({})
  const [log, setLog] = useState('')
  const [result, setResult] = useState<RunResult | null>(null)
  const action = useAction()

  useEffect(() => {
    call<Providers>('list_providers', { ref: resolved.ref, targets }).then((p) => {
      setProviders(p)
      setProvider(p.fixed ?? p.choices[0] ?? '')
    })
  }, [resolved.ref])

  // the credentials this launch needs: the chosen provider's and the ones the entity names, one picker per type
  const chosenRow = providers?.providers.find((p) => p.name === provider)
  const needed = [...(chosenRow?.credential ? [chosenRow.credential] : []), ...(providers?.item_credentials ?? [])].filter(
    (c, i, all) => all.findIndex((x) => x.resource_type === c.resource_type) === i,
  )
  const chosenResource = (c: Credential) =>
    picks[c.resource_type] ?? (c.resources.includes(c.path) ? c.path : (c.resources[0] ?? c.path))

  const reason = (p: ProviderRow) =>
    item.spec.tool && !p.tools.includes(item.spec.tool)
      ? `${t('doesNotFit')}: ${item.spec.tool}`
      : `${t('doesNotFit')}: ${(item.spec.providers ?? []).join(', ') || providers?.fixed || ''}`

  const launch = () =>
    action.run(async () => {
      setResult(null)
      setLog('')
      const props = (schema.properties ?? {}) as Record<string, any>
      const inputs = Object.fromEntries(
        Object.entries(values)
          .filter(([, v]) => v !== '')
          .map(([k, v]) => [k, parseInput(v, props[k])]),
      )
      const credentials = Object.fromEntries(needed.filter((c) => chosenResource(c) !== c.path).map((c) => [c.resource_type, chosenResource(c)]))
      const args = { ref: resolved.ref, provider: provider || null, inputs, mode, targets, credentials }
      const out = await callFollowing<RunResult>('run_item', args, setLog)
      setResult(out)
      onRun({ ref: resolved.ref, provider, mode, status: out.status, duration: out.duration_s })
    })

  const marks = Object.fromEntries(
    (result?.steps ?? []).map((s) => [s.id, s.status === 'ok' ? 'success' : s.status]),
  )
  const running = action.busy ? Object.fromEntries((item.spec.steps ?? []).map((s: Step) => [s.id, 'running'])) : {}
  const stepRows = result?.steps
    ? flatSteps(result.steps)
    : result
      ? [{ step: { id: item.metadata.name, status: result.status, duration_s: result.duration_s, result: { ref: resolved.ref, outputs: result.outputs } }, depth: 0 }]
      : []
  return (
    <Panel title={`${t('run')} ${resolved.ref}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault()
          launch()
        }}
      >
        <fieldset>
          <legend>{t('inputs')}</legend>
          {Object.entries((schema.properties ?? {}) as Record<string, any>).map(([k, prop]) => (
            <div className="field inline" key={k}>
              <label htmlFor={`in-${k}`}>
                {k}
                {(schema.required ?? []).includes(k) ? ' *' : ''}
              </label>
              <input
                id={`in-${k}`}
                type={prop.writeOnly || prop.password || /password|secret|token/i.test(k) ? 'password' : 'text'}
                value={values[k] ?? ''}
                title={prop.description}
                required={(schema.required ?? []).includes(k)}
                onChange={(e) => setValues({ ...values, [k]: e.target.value })}
              />
              <span className="muted">{prop.description}</span>
            </div>
          ))}
        </fieldset>
        <div className="chips">
          <Select
            label={t('provider')}
            value={provider}
            onChange={setProvider}
            options={(providers?.providers ?? []).map((p) => ({
              value: p.name,
              label: `${p.name} — ${p.fits ? (p.credentials.present ? t('credentials') + ' ✓' : t('credentials') + ' ✗') : reason(p)}`,
              disabled: !p.fits,
              title: p.credentials.message,
            }))}
          />
          <Select label={t('mode')} value={mode} onChange={setMode} options={['apply', 'plan', 'check', 'destroy'].map((v) => ({ value: v, label: v }))} />
        </div>
        {needed.length > 0 && (
          <fieldset className="credential-picks">
            <legend>{t('credentials')}</legend>
            {needed.map((c) =>
              c.resources.length ? (
                <Select
                  key={c.resource_type}
                  label={`${t('credential')} ${c.resource_type}`}
                  value={chosenResource(c)}
                  onChange={(v) => setPicks({ ...picks, [c.resource_type]: v })}
                  options={c.resources.map((r) => ({ value: r, label: r === c.path ? `${r} (${t('byDefault')})` : r }))}
                />
              ) : (
                <p key={c.resource_type} className="muted">
                  {t('credential')} {c.resource_type}: {t('noResource')} <code>{c.path}</code>
                </p>
              ),
            )}
          </fieldset>
        )}
        <div className="chips">
          <button type="submit" className="primary" disabled={action.busy || !provider}>
            {t('launch')}
          </button>
        </div>
      </form>
      {providers && (
        <p className="muted">
          {t('credentials')}:{' '}
          {providers.providers
            .filter((p) => p.name === provider)
            .map((p) => (p.credentials.present ? t('present') : `${t('missing')} — ${p.credentials.message ?? ''}`))}
        </p>
      )}
      <Busy when={action.busy} label={t('running')} />
      <ErrorBanner error={action.error} />
      {item.spec.steps && <Graph steps={item.spec.steps} marks={{ ...running, ...marks }} />}
      {result && (
        <div className="run-result" data-status={result.status}>
          <p className={result.status === 'success' ? 'ok' : 'bad'} role="status">
            {t('status')}: {result.status} {result.duration_s !== undefined && `· ${result.duration_s.toFixed(1)} s`}
            {result.failed_step && ` · ${result.failed_step}: ${result.error}`}
          </p>
          {stepRows.length > 0 && (
            <table>
              <caption>{t('steps')}</caption>
              <tbody>
                {stepRows.map(({ step, depth }) => (
                  <tr key={`${depth}-${step.id}`} data-step={step.id} data-status={step.status}>
                    <td style={{ paddingLeft: 8 + depth * 18 }}>{step.status === 'ok' || step.status === 'success' ? '✓' : step.status === 'skipped' ? '–' : '✗'} {step.id}</td>
                    <td>{step.result?.ref ?? step.summary ?? ''}</td>
                    <td>{step.duration_s?.toFixed(2)} s</td>
                    <td>{Object.entries(step.result?.outputs ?? {}).map(([k, v]) => `${k}=${String(v)}`).join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <h3>{t('outputs')}</h3>
          <pre className="log">{JSON.stringify(result.outputs ?? {}, null, 2)}</pre>
          {result.log && (
            <>
              <h3>{t('log')}</h3>
              <pre className="log">{result.log.slice(-4000)}</pre>
            </>
          )}
        </div>
      )}
      {!result && log && <pre className="log" aria-live="polite">{log.slice(-4000)}</pre>}
    </Panel>
  )
}

function flatSteps(steps: RunStep[], depth = 0): { step: RunStep; depth: number }[] {
  return steps.flatMap((s) => [{ step: s, depth }, ...flatSteps(s.steps ?? [], depth + 1)])
}
