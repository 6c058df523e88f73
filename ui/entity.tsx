// The entity composer: a need → a checked draft, refined by dialogue (one version per turn, each with its
// diff), edited by hand and re-checked, saved to chosen Git targets. Used full-page by the
// entity_composer app and inside the pipeline composer to fill a gap.
import { useState } from 'react'
import { call, callFollowing, toUiError, type FractalUiError } from './bridge'
import {
  Busy,
  DiffLines,
  ErrorBanner,
  FileTabs,
  NeedBox,
  Panel,
  PROVIDERS,
  ReportView,
  Select,
  TargetPicker,
  TOOLS,
  useAction,
  type Report,
} from './components'
import { itemText, lineDiff, parseUnified } from './diff'
import { useT } from './i18n'

type Draft = { kind: string; metadata: Record<string, any>; spec: Record<string, any>; provenance?: Record<string, any> }
type Generated = { draft: Draft; report: Report; conversation: any[]; attempts: any[]; generator: string; diff?: string }
type Turn = Generated & { message: string; state: 'accepted' | 'proposed' | 'rejected' }
const lastLine = (logs: string) => logs.trim().split('\n').pop() ?? ''

type Saved = { ref: string; version: string; targets: any[]; pending: string[] }

export function EntityComposer({
  initial,
  onSaved,
}: {
  initial?: { need?: string; tool?: string; provider?: string; name?: string }
  onSaved?: (saved: Saved) => void
}) {
  const t = useT()
  const [need, setNeed] = useState(initial?.need ?? '')
  const [tool, setTool] = useState(initial?.tool ?? '')
  const [provider, setProvider] = useState(initial?.provider ?? '')
  const [name, setName] = useState(initial?.name ?? '')
  const [turns, setTurns] = useState<Turn[]>([])
  const [at, setAt] = useState(-1)
  const [edited, setEdited] = useState<Draft | null>(null)
  const [message, setMessage] = useState('')
  const [stage, setStage] = useState('') // the last progress line of the running job, when the platform gives logs
  const action = useAction()

  const turn = at >= 0 ? turns[at] : null
  const draft = edited ?? turn?.draft ?? null
  const accepted = turns.map((x, i) => [x, i] as const).filter(([x]) => x.state === 'accepted')
  const base = accepted.length ? accepted[accepted.length - 1][1] : -1

  const generate = () =>
    action.run(async () => {
      setStage('')
      const args = { need, tool, provider, name, llm: '' }
      const out = await callFollowing<Generated>('generate_entity', args, (logs) => setStage(lastLine(logs)))
      setTurns([{ ...out, message: need, state: 'accepted' }])
      setAt(0)
      setEdited(null)
    })

  const refine = () =>
    action.run(async () => {
      setStage('')
      if (!draft || !turn) return
      const args = { draft, message, conversation: turn.conversation }
      const out = await callFollowing<Generated>('refine_entity', args, (logs) => setStage(lastLine(logs)))
      const kept = turns.slice(0, at + 1).filter((x) => x.state === 'accepted')
      setTurns([...kept, { ...out, message, state: 'proposed' }])
      setAt(kept.length)
      setEdited(null)
      setMessage('')
    })

  const decide = (state: 'accepted' | 'rejected') => {
    setTurns(turns.map((x, i) => (i === at ? { ...x, state } : x)))
    if (state === 'rejected') setAt(base)
  }

  const editFile = (file: string, text: string) => {
    if (!draft) return
    setEdited({ ...draft, spec: { ...draft.spec, files: { ...draft.spec.files, [file]: text } } })
  }

  const recheck = () =>
    action.run(async () => {
      if (!draft) return
      const report = await call<Report>('check_entity', { item: draft })
      const next = turns.map((x, i) => (i === at ? { ...x, draft, report } : x))
      setTurns(next)
      setEdited(null)
    })

  return (
    <div className="composer">
      <Panel title={t('needTitle')}>
        <NeedBox label={t('need')} hint={t('needHint')} value={need} onChange={setNeed} onSubmit={generate} />
        <div className="chips">
          <Select label={t('tool')} value={tool} onChange={setTool} options={TOOLS.map((v) => ({ value: v, label: v || t('anyChoice') }))} />
          <Select
            label={t('provider')}
            value={provider}
            onChange={setProvider}
            options={PROVIDERS.map((v) => ({ value: v, label: v || t('anyChoice') }))}
          />
          <div className="field inline">
            <label htmlFor="entity-name">{t('name')}</label>
            <input id="entity-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="my-entity" />
          </div>
          <button type="button" className="primary" disabled={action.busy || !need.trim()} onClick={generate}>
            {t('generate')}
          </button>
        </div>
        <Busy when={action.busy} label={`${t('generating')} ${stage}`} />
        <ErrorBanner error={action.error} onDismiss={() => action.setError(null)} />
        {turn && turn.generator === 'offline' && <p className="muted">{t('offline')}</p>}
      </Panel>

      {draft && turn && (
        <div className="columns">
          <Panel title={`${t('draft')}: ${draft.metadata.name}`}>
            <p className="muted">
              {draft.spec.tool} · {(draft.spec.providers ?? []).join(', ')} · {draft.metadata.description}
            </p>
            <FileTabs files={draft.spec.files ?? {}} onEdit={editFile} />
            <button type="button" disabled={action.busy || !edited} onClick={recheck}>
              {t('recheck')}
            </button>
            <h3>{t('checks')}</h3>
            <ReportView report={turn.report} />
            <p className="muted">
              {turn.attempts.map((a) => `#${a.attempt} ${a.ok ? '✓' : '✗'}`).join(' · ')}
            </p>
          </Panel>
          <Panel title={t('dialogue')}>
            <ol className="thread">
              {turns.map((x, i) => (
                <li key={i} data-state={x.state} aria-current={i === at ? 'step' : undefined}>
                  <span className="who">
                    {t('turn')} {i + 1} · v{i + 1} · {t(x.state)}
                  </span>
                  <p>{x.message}</p>
                  {i !== at && x.state !== 'rejected' && (
                    <button type="button" className="link" onClick={() => (setAt(i), setEdited(null))}>
                      {t('goBack')}
                    </button>
                  )}
                </li>
              ))}
            </ol>
            {turn.state === 'proposed' && (
              <div className="decision" role="group" aria-label={t('diff')}>
                <DiffLines label={t('diff')} lines={turn.diff ? parseUnified(turn.diff) : lineDiff('', itemText(draft))} />
                <div className="sticky">
                  <button type="button" className="primary" onClick={() => decide('accepted')}>
                    {t('accept')}
                  </button>
                  <button type="button" onClick={() => decide('rejected')}>
                    {t('reject')}
                  </button>
                </div>
              </div>
            )}
            <NeedBox label={t('refine')} hint={t('refineHint')} value={message} onChange={setMessage} onSubmit={refine} rows={2} />
            <button type="button" disabled={action.busy || !message.trim() || turn.state === 'proposed'} onClick={refine}>
              {t('send')}
            </button>
          </Panel>
          <SavePanel draft={draft} disabled={turn.state === 'proposed'} onSaved={onSaved} />
          <TeachPanel draft={draft} task={turns[0]?.message ?? need} />
        </div>
      )}
    </div>
  )
}

type Learned = { rune: string; inputs: string[]; saved: { targets: any[] }; sanitizer: Record<string, any> }

/** "Teach Fractal this solution": the draft as it stands (edits included) and its task become a Rune in the
 *  knowledge catalog (submit_solution: sanitized, parametrised, validated), which later needs reuse. */
export function TeachPanel({ draft, task: initialTask }: { draft: Draft; task: string }) {
  const t = useT()
  const [task, setTask] = useState(initialTask)
  const [confidence, setConfidence] = useState('1')
  const [targets, setTargets] = useState<string[]>([])
  const [learned, setLearned] = useState<Learned | null>(null)
  const action = useAction()
  const teach = () =>
    action.run(async () => {
      setLearned(null)
      const solution = { tool: draft.spec.tool, files: draft.spec.files ?? {}, providers: draft.spec.providers ?? [] }
      const args = { task, solution, confidence: Number(confidence), tags: draft.metadata.tags ?? [], targets }
      setLearned(await call<Learned>('submit_solution', args))
    })
  return (
    <Panel title={t('teach')}>
      <details>
        <summary>{t('teachWhat')}</summary>
        <NeedBox label={t('task')} hint={t('needHint')} value={task} onChange={setTask} onSubmit={teach} rows={2} />
        <div className="chips">
          <div className="field inline">
            <label htmlFor="teach-confidence">{t('confidence')}</label>
            <input id="teach-confidence" type="number" min="0" max="1" step="0.1" value={confidence} onChange={(e) => setConfidence(e.target.value)} />
          </div>
        </div>
        <TargetPicker selected={targets} onChange={setTargets} preselect={false} legend={t('knowledgeTargets')} />
        <button type="button" disabled={action.busy || !task.trim()} onClick={teach}>
          {t('teachButton')}
        </button>
        <Busy when={action.busy} label={t('saving')} />
        <ErrorBanner error={action.error} />
        {learned && (
          <div className="saved" role="status">
            <p className="ok">
              ✓ {t('learned')} <code>{learned.rune}</code>
            </p>
            <p className="muted">
              {t('inputs')}: {learned.inputs.join(', ') || '—'} · {learned.saved.targets.map((r) => r.target).join(', ')}
            </p>
          </div>
        )}
      </details>
    </Panel>
  )
}

/** Save to the chosen targets; a conflict shows mine vs the catalog's and offers to overwrite. */
export function SavePanel({ draft, disabled, onSaved }: { draft: Draft; disabled?: boolean; onSaved?: (s: Saved) => void }) {
  const t = useT()
  const [targets, setTargets] = useState<string[]>([])
  const [bump, setBump] = useState('patch')
  const [expected, setExpected] = useState('')
  const [saved, setSaved] = useState<Saved | null>(null)
  const [current, setCurrent] = useState<Draft | null>(null)
  const action = useAction()
  const ref = `${draft.kind === 'Entity' ? 'entity' : draft.kind === 'Pipeline' ? 'pipeline' : 'meta-pipeline'}:${draft.metadata.name}`

  const save = (conflict: 'fail' | 'overwrite') =>
    action.run(async () => {
      setCurrent(null)
      try {
        const out = await call<Saved>('save_item', { item: draft, targets, bump, expected_version: expected || null, conflict })
        setSaved(out)
        onSaved?.(out)
      } catch (e) {
        const err: FractalUiError = toUiError(e)
        if (err.kind === 'conflict') {
          const got = await call<{ item: Draft }>('get_item', { ref, targets }).catch(() => null)
          setCurrent(got?.item ?? null)
        }
        throw err
      }
    })

  return (
    <Panel title={t('save')}>
      <TargetPicker selected={targets} onChange={setTargets} />
      <div className="chips">
        <Select label={t('bump')} value={bump} onChange={setBump} options={['patch', 'minor', 'major'].map((v) => ({ value: v, label: v }))} />
        <div className="field inline">
          <label htmlFor="expected-version">{t('expectedVersion')}</label>
          <input id="expected-version" value={expected} onChange={(e) => setExpected(e.target.value)} placeholder="1.0.0" size={8} />
        </div>
        <button type="button" className="primary" disabled={action.busy || disabled || !targets.length} onClick={() => save('fail')}>
          {t('save')}
        </button>
      </div>
      <Busy when={action.busy} label={t('saving')} />
      <ErrorBanner error={action.error} />
      {current && (
        <div className="conflict">
          <h3>{t('conflict')}</h3>
          <DiffLines label={`${t('current')} v${current.metadata.version} → ${t('mine')}`} lines={lineDiff(itemText(current), itemText(draft))} />
          <button type="button" onClick={() => save('overwrite')}>
            {t('overwrite')}
          </button>
        </div>
      )}
      {saved && (
        <div className="saved" role="status">
          <p className="ok">
            ✓ {t('saved')} <code>{saved.ref}</code>
          </p>
          <ul>
            {saved.targets.map((r) => (
              <li key={r.target}>
                <code>{r.target}</code> {r.status} {r.commit && <>· {t('commit')} <code className="sha">{String(r.commit).slice(0, 10)}</code></>}
                {r.tag && <> · {t('tag')} <code>{r.tag}</code></>}
              </li>
            ))}
          </ul>
          {saved.pending.length > 0 && (
            <p className="bad">
              {t('pending')}: {saved.pending.join(', ')}
            </p>
          )}
        </div>
      )}
    </Panel>
  )
}
