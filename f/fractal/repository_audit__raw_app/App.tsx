// Repository audit: a repository → its GitOps score with the checks that made it and their evidence, the
// findings grouped and filterable, what could not be checked; then its migration scaffolded as catalog
// drafts (validated, rescanned: score before → after) and saved to chosen Git targets.
import { useEffect, useState } from 'react'
import { call, callFollowing } from '/ui/bridge'
import {
  Busy,
  ErrorBanner,
  FileTabs,
  Panel,
  ReportView,
  Select,
  Shell,
  Tabs,
  TargetPicker,
  useAction,
  type Report,
  type Target,
} from '/ui/components'
import { useT } from '/ui/i18n'

type Check = { id: string; group: string; title: string; risk: string; weight: number; score: number | null; status: string; evidence: string[]; why: string }
type Finding = { tool: string; rule: string; category: string; severity: string; file: string; line?: number; commit?: string; message: string; fix?: string; fingerprint: string }
type Audit = {
  repo: string
  head: string
  commits?: number
  score: number
  grade: string
  groups: Record<string, { title: string; score: number | null }>
  checks: Check[]
  summary: Record<string, number>
  findings: Finding[]
  structure: Record<string, any>
  tools: { tool: string; status: string; findings?: number; seconds?: number }[]
  unavailable: { dimension: string; tool: string; reason: string }[]
}
type Item = { kind: string; metadata: Record<string, any>; spec: Record<string, any>; provenance?: Record<string, any> }
type Migration = {
  app: string
  valid: boolean
  drafts: Item[]
  pipeline: Item
  validation: Record<string, Report>
  dockerfile_fixes: { service: string; dockerfile: string; fixed: string[] }[]
  warnings: string[]
  score: { before: number; after: number | null; grade_before?: string; grade_after?: string; changed: { id: string; before: number | null; after: number | null }[] }
}
type Saved = { ref: string; version: string; targets: { target: string; status: string; commit?: string; tag?: string }[]; pending: string[] }

const DIMENSIONS = ['history', 'rules', 'checkov', 'bandit', 'detect-secrets']
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info']
const CATEGORIES = ['secret', 'misconfiguration', 'code', 'vulnerability']
const params = new URLSearchParams(window.location.search)
const lastLine = (logs: string) => logs.trim().split('\n').pop() ?? ''

export default function App() {
  return (
    <Shell title="repositoryAudit">
      <RepositoryAudit />
    </Shell>
  )
}

function RepositoryAudit() {
  const t = useT()
  const [repo, setRepo] = useState(params.get('repo') ?? '')
  const [ref, setRef] = useState('')
  const [dimensions, setDimensions] = useState<string[]>(DIMENSIONS)
  const [known, setKnown] = useState<Target[]>([])
  const [report, setReport] = useState<Audit | null>(null)
  const [stage, setStage] = useState('')
  const action = useAction()

  useEffect(() => {
    call<{ targets: Target[] }>('list_targets', {}).then((r) => setKnown(r.targets), () => setKnown([]))
  }, [])

  const audit = () =>
    action.run(async () => {
      setReport(null)
      setStage('')
      const args = { repo: repo.trim(), ref, checks: dimensions }
      setReport(await callFollowing<Audit>('audit_repository', args, (logs) => setStage(lastLine(logs))))
    })
  const toggle = (d: string) => setDimensions(dimensions.includes(d) ? dimensions.filter((x) => x !== d) : [...dimensions, d])

  return (
    <>
      <Panel title={t('repository')}>
        <form
          onSubmit={(e) => {
            e.preventDefault()
            audit()
          }}
        >
          <div className="field">
            <label htmlFor="repo">{t('repository')}</label>
            <input id="repo" list="known-repos" value={repo} onChange={(e) => setRepo(e.target.value)} placeholder={t('repositoryHint')} required />
            <datalist id="known-repos">
              {known.map((k) => (
                <option key={k.path} value={k.path}>
                  {k.description}
                </option>
              ))}
            </datalist>
          </div>
          <div className="chips">
            <div className="field inline">
              <label htmlFor="ref">{t('ref')}</label>
              <input id="ref" value={ref} onChange={(e) => setRef(e.target.value)} placeholder="main" size={12} />
            </div>
            <fieldset className="inline-set">
              <legend>{t('dimensions')}</legend>
              {DIMENSIONS.map((d) => (
                <label key={d} className="check-inline">
                  <input type="checkbox" checked={dimensions.includes(d)} onChange={() => toggle(d)} /> {d}
                </label>
              ))}
            </fieldset>
            <button type="submit" className="primary" disabled={action.busy || !repo.trim() || !dimensions.length}>
              {t('audit')}
            </button>
          </div>
        </form>
        <Busy when={action.busy} label={`${t('auditing')} ${stage}`} />
        <ErrorBanner error={action.error} onDismiss={() => action.setError(null)} />
      </Panel>
      {report && (
        <>
          <div className="columns">
            <ScorePanel report={report} />
            <StructurePanel report={report} />
          </div>
          <FindingsPanel report={report} />
          <MigrationPanel key={report.head + report.repo} report={report} dimensions={dimensions} />
        </>
      )}
    </>
  )
}

function ScorePanel({ report }: { report: Audit }) {
  const t = useT()
  const [failingOnly, setFailingOnly] = useState(false)
  const groups = Object.entries(report.groups)
  const checks = report.checks.filter((c) => !failingOnly || (c.score !== null && c.score < 10))
  return (
    <Panel title={t('score')}>
      <p className="score" data-grade={report.grade}>
        <strong aria-label={`${t('score')} ${report.score}/100`}>{report.score}</strong>/100 · {t('grade')} <strong>{report.grade}</strong>
        <span className="muted">
          {' '}
          · <code>{report.repo}</code> @ <code className="sha">{report.head.slice(0, 10)}</code>
        </span>
      </p>
      <ul className="groups">
        {groups.map(([id, g]) => (
          <li key={id}>
            <span className="bar" aria-hidden="true">
              <span style={{ width: `${g.score ?? 0}%` }} />
            </span>{' '}
            {g.score ?? '—'} · {g.title}
          </li>
        ))}
      </ul>
      <label className="check">
        <input type="checkbox" checked={failingOnly} onChange={(e) => setFailingOnly(e.target.checked)} /> {t('onlyFailing')}
      </label>
      <table className="checks">
        <thead>
          <tr>
            <th scope="col">{t('checkTitle')}</th>
            <th scope="col">{t('status')}</th>
            <th scope="col">{t('evidence')}</th>
          </tr>
        </thead>
        <tbody>
          {checks.map((c) => (
            <tr key={c.id} data-check={c.id} data-status={c.status}>
              <td>
                <strong>{c.title}</strong>
                <br />
                <span className="muted">
                  {c.id} · {c.risk} · {t('weight')} {c.weight}
                </span>
              </td>
              <td className={c.status === 'pass' ? 'ok' : c.status === 'not-applicable' ? 'muted' : 'bad'}>
                {c.status} {c.score !== null && `${c.score}/10`}
              </td>
              <td>
                <ul className="evidence">{c.evidence.map((e, i) => <li key={i}>{e}</li>)}</ul>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Panel>
  )
}

function StructurePanel({ report }: { report: Audit }) {
  const t = useT()
  const s = report.structure
  const rows: [string, string][] = [
    ['languages', Object.entries(s.languages ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['services', (s.services ?? []).map((x: any) => x.name).join(', ')],
    ['dockerfiles', (s.dockerfiles ?? []).join(', ')],
    ['compose', (s.compose_files ?? []).join(', ')],
    ['kubernetes', Object.entries(s.kubernetes_objects ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['helm', (s.helm_charts ?? []).join(', ')],
    ['kustomize', (s.kustomizations ?? []).join(', ')],
    ['ci', (s.ci_workflows ?? []).join(', ')],
    ['terraform', (s.terraform_modules ?? []).join(', ')],
  ]
  return (
    <Panel title={t('structure')}>
      <table>
        <tbody>
          {rows.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td>{v || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t('notChecked')}</h3>
      <ul className="unavailable">
        {report.unavailable.length ? report.unavailable.map((u) => (
          <li key={u.dimension + u.tool}>
            <strong>{u.dimension}</strong> ({u.tool}): {u.reason}
          </li>
        )) : <li>—</li>}
      </ul>
      <p className="muted">{report.tools.map((x) => `${x.tool}: ${x.status}${x.findings !== undefined ? ` (${x.findings})` : ''}`).join(' · ')}</p>
    </Panel>
  )
}

function FindingsPanel({ report }: { report: Audit }) {
  const t = useT()
  const [severity, setSeverity] = useState('')
  const [category, setCategory] = useState('')
  const [tool, setTool] = useState('')
  const [text, setText] = useState('')
  const tools = [...new Set(report.findings.map((f) => f.tool))].sort()
  const shown = report.findings.filter(
    (f) =>
      (!severity || f.severity === severity) &&
      (!category || f.category === category) &&
      (!tool || f.tool === tool) &&
      (!text || `${f.rule} ${f.file} ${f.message}`.toLowerCase().includes(text.toLowerCase())),
  )
  const groups = CATEGORIES.map((c) => [c, shown.filter((f) => f.category === c)] as const).filter(([, fs]) => fs.length)
  const all = (label: string) => [{ value: '', label }]
  return (
    <Panel title={`${t('findings')} (${shown.length}/${report.findings.length})`}>
      <div className="chips">
        <Select label={t('severity')} value={severity} onChange={setSeverity} options={[...all(t('all')), ...SEVERITIES.map((v) => ({ value: v, label: `${v} (${report.summary[v] ?? 0})` }))]} />
        <Select label={t('category')} value={category} onChange={setCategory} options={[...all(t('all')), ...CATEGORIES.map((v) => ({ value: v, label: v }))]} />
        <Select label={t('tool')} value={tool} onChange={setTool} options={[...all(t('all')), ...tools.map((v) => ({ value: v, label: v }))]} />
        <div className="field inline">
          <label htmlFor="finding-text">{t('filterText')}</label>
          <input id="finding-text" type="search" value={text} onChange={(e) => setText(e.target.value)} placeholder="Dockerfile, K8S-…" />
        </div>
      </div>
      {groups.map(([cat, fs]) => (
        <section key={cat} className="finding-group" data-category={cat} aria-label={cat}>
          <h3>
            {cat} ({fs.length})
          </h3>
          <ul className="findings">
            {fs.map((f) => (
              <li key={f.fingerprint} data-rule={f.rule} data-severity={f.severity}>
                <span className={`sev ${f.severity}`}>{f.severity}</span> <code>{f.rule}</code>{' '}
                <code>
                  {f.file}
                  {f.line ? `:${f.line}` : ''}
                </code>
                {f.commit && (
                  <>
                    {' '}
                    {t('commit')} <code className="sha">{f.commit.slice(0, 10)}</code>
                  </>
                )}{' '}
                — {f.message}
                {f.fix && <div className="muted">→ {f.fix}</div>}
              </li>
            ))}
          </ul>
        </section>
      ))}
      {!groups.length && <p>{t('noResults')}</p>}
    </Panel>
  )
}

function MigrationPanel({ report, dimensions }: { report: Audit; dimensions: string[] }) {
  const t = useT()
  const [environments, setEnvironments] = useState('dev, prod')
  const [helm, setHelm] = useState(false)
  const [registry, setRegistry] = useState('')
  const [gitopsRepo, setGitopsRepo] = useState('')
  const [migration, setMigration] = useState<Migration | null>(null)
  const [targets, setTargets] = useState<string[]>([])
  const [saved, setSaved] = useState<Saved[]>([])
  const action = useAction()
  const saving = useAction()

  const scaffold = () =>
    action.run(async () => {
      setMigration(null)
      setSaved([])
      const envs = environments.split(/[\s,]+/).filter(Boolean)
      const args = { audit: report, environments: envs, helm, registry, gitops_repo: gitopsRepo, checks: dimensions }
      setMigration(await call<Migration>('scaffold_migration', args))
    })

  // the drafts, then the pipeline pinned to the versions they were saved as (what scaffold_migration's save does)
  const save = () =>
    saving.run(async () => {
      if (!migration) return
      const done: Saved[] = []
      const versions: Record<string, string> = {}
      for (const draft of migration.drafts) {
        const out = await call<Saved>('save_item', { item: draft, targets })
        versions[draft.metadata.name] = out.version
        done.push(out)
        setSaved([...done])
      }
      const steps = migration.pipeline.spec.steps.map((s: any) => {
        const name = s.ref.split(':', 2)[1].split('@')[0]
        return { ...s, ref: `entity:${name}@${versions[name]}` }
      })
      const pipeline = { ...migration.pipeline, spec: { ...migration.pipeline.spec, steps } }
      done.push(await call<Saved>('save_item', { item: pipeline, targets }))
      setSaved([...done])
    })

  const drafts = migration ? [...migration.drafts, migration.pipeline] : []
  return (
    <Panel title={t('migration')}>
      <div className="chips">
        <div className="field inline">
          <label htmlFor="envs">{t('environments')}</label>
          <input id="envs" value={environments} onChange={(e) => setEnvironments(e.target.value)} size={16} />
        </div>
        <div className="field inline">
          <label htmlFor="registry">{t('registry')}</label>
          <input id="registry" value={registry} onChange={(e) => setRegistry(e.target.value)} placeholder="ghcr.io/org" size={16} />
        </div>
        <div className="field inline">
          <label htmlFor="gitops">{t('gitopsRepo')}</label>
          <input id="gitops" value={gitopsRepo} onChange={(e) => setGitopsRepo(e.target.value)} placeholder="https://git.example.com/app.git" />
        </div>
        <label className="check-inline">
          <input type="checkbox" checked={helm} onChange={(e) => setHelm(e.target.checked)} /> {t('useHelm')}
        </label>
        <button type="button" className="primary" disabled={action.busy} onClick={scaffold}>
          {t('scaffold')}
        </button>
      </div>
      <Busy when={action.busy} label={t('scaffolding')} />
      <ErrorBanner error={action.error} onDismiss={() => action.setError(null)} />
      {migration && (
        <>
          <p className="score-change" role="status">
            {t('score')}: {t('before')} <strong>{migration.score.before}</strong> ({migration.score.grade_before}) → {t('after')}{' '}
            <strong>{migration.score.after ?? '—'}</strong> ({migration.score.grade_after ?? '—'})
          </p>
          <ul className="changed">
            {migration.score.changed.map((c) => (
              <li key={c.id}>
                <code>{c.id}</code>: {c.before ?? '—'} → {c.after ?? '—'}
              </li>
            ))}
          </ul>
          {migration.warnings.map((w) => (
            <p key={w} className="bad">
              ⚠ {w}
            </p>
          ))}
          <h3>{t('drafts')}</h3>
          <Tabs
            names={drafts.map((d) => d.metadata.name)}
            label={t('drafts')}
            render={(name) => {
              const d = drafts.find((x) => x.metadata.name === name)!
              return (
                <>
                  <p className="muted">
                    {d.kind} · {d.spec.tool ?? ''} · {d.metadata.description}
                  </p>
                  {migration.validation[name] && <ReportView report={migration.validation[name]} />}
                  {d.spec.steps ? (
                    <ol>{d.spec.steps.map((s: any) => <li key={s.id}><code>{s.ref}</code> {s.summary}</li>)}</ol>
                  ) : (
                    <FileTabs files={d.spec.files ?? {}} />
                  )}
                </>
              )
            }}
          />
          <TargetPicker selected={targets} onChange={setTargets} />
          <button type="button" className="primary" disabled={saving.busy || !migration.valid || !targets.length} onClick={save}>
            {t('saveDrafts')}
          </button>
          <Busy when={saving.busy} label={t('saving')} />
          <ErrorBanner error={saving.error} />
          {saved.length > 0 && (
            <ul className="saved" role="status" aria-label={t('saved')}>
              {saved.map((s) => (
                <li key={s.ref}>
                  ✓ <code>{s.ref}</code>{' '}
                  {s.targets.map((r) => (
                    <span key={r.target}>
                      · <code>{r.target}</code> {r.status} {r.commit && <code className="sha">{r.commit.slice(0, 10)}</code>}
                    </span>
                  ))}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Panel>
  )
}
