// The pipeline and meta-pipeline composers: a need → a graph of pinned catalog steps with its gaps
// named; a gap opens the composer one level down (entity composer for a pipeline, pipeline composer
// for a meta-pipeline) prefilled, and comes back recomposed; refinement by dialogue shows a graph diff.
import { useRef, useState } from 'react'
import { call } from './bridge'
import {
  Busy,
  ErrorBanner,
  FileTabs,
  Graph,
  NeedBox,
  Panel,
  PROVIDERS,
  Select,
  Tabs,
  useAction,
  WiringTable,
  type Gap,
  type Step,
} from './components'
import { graphDiff, type StepChange } from './diff'
import { EntityComposer, SavePanel } from './entity'
import { useT } from './i18n'

export type Level = 'pipeline' | 'meta'
type Draft = { kind: string; metadata: Record<string, any>; spec: Record<string, any> }
type Composed = {
  draft: Draft
  explanation: string
  gaps: Gap[]
  checks: { ok: boolean; errors: (string | { message: string })[] }
  conversation: any[]
}
type Turn = Composed & { message: string; changes: StepChange[] }

const text = (e: string | { message: string }) => (typeof e === 'string' ? e : e.message)

export function CompositeComposer({
  level,
  initial,
  onSaved,
}: {
  level: Level
  initial?: { need?: string; provider?: string | null; name?: string }
  onSaved?: (saved: { ref: string }) => void
}) {
  const t = useT()
  const [need, setNeed] = useState(initial?.need ?? '')
  const [provider, setProvider] = useState(initial?.provider ?? '')
  const [name, setName] = useState(initial?.name ?? '')
  const [turns, setTurns] = useState<Turn[]>([])
  const [at, setAt] = useState(-1)
  const [message, setMessage] = useState('')
  const [gap, setGap] = useState<Gap | null>(null)
  const dialog = useRef<HTMLDialogElement>(null)
  const action = useAction()
  const script = level === 'pipeline' ? 'compose_pipeline' : 'compose_meta_pipeline'
  const turn = at >= 0 ? turns[at] : null

  const compose = (ask: string, conversation: any[] | null, said: string) =>
    action.run(async () => {
      const out = await call<Composed>(script, { need: ask, provider: provider || null, name, conversation, llm: '' })
      const previous = turns.slice(0, at + 1)
      const changes = previous.length ? graphDiff(previous[previous.length - 1].draft, out.draft) : []
      setTurns([...previous, { ...out, message: said, changes }])
      setAt(previous.length)
    })

  const openGap = (g: Gap) => {
    setGap(g)
    dialog.current?.showModal?.()
  }
  const gapFilled = (saved: { ref: string }) => {
    dialog.current?.close?.()
    setGap(null)
    compose(turns[0]?.message ?? need, null, `${t('gap')} → ${saved.ref}`)
  }

  const steps: Step[] = turn?.draft.spec.steps ?? []
  const marks = Object.fromEntries((turn?.changes ?? []).filter((c) => c.change !== 'removed').map((c) => [c.id, c.change]))
  const problems = (turn?.checks.errors ?? []).map(text)
  const request = gap ? (level === 'pipeline' ? gap.generate_entity : gap.compose_pipeline) ?? { need: gap.need } : null
  return (
    <div className="composer">
      <Panel title={t('needTitle')}>
        <NeedBox label={t('need')} hint={t('needHint')} value={need} onChange={setNeed} onSubmit={() => compose(need, null, need)} />
        <div className="chips">
          <Select
            label={t('provider')}
            value={provider ?? ''}
            onChange={setProvider}
            options={PROVIDERS.map((v) => ({ value: v, label: v || t('anyChoice') }))}
          />
          <div className="field inline">
            <label htmlFor={`${level}-name`}>{t('name')}</label>
            <input id={`${level}-name`} value={name} onChange={(e) => setName(e.target.value)} placeholder="my-pipeline" />
          </div>
          <button type="button" className="primary" disabled={action.busy || !need.trim()} onClick={() => compose(need, null, need)}>
            {t('compose')}
          </button>
        </div>
        <Busy when={action.busy} label={t('composing')} />
        <ErrorBanner error={action.error} onDismiss={() => action.setError(null)} />
      </Panel>

      {turn && (
        <div className="columns">
          <Panel title={`${t('draft')}: ${turn.draft.metadata.name}`}>
            <p className="muted">{turn.explanation}</p>
            <Graph
              steps={steps}
              gaps={turn.gaps}
              marks={marks}
              onGap={openGap}
              gapLabel={level === 'pipeline' ? t('generateThis') : t('composeThis')}
              renderStep={level === 'meta' ? (s) => <Members step={s} /> : undefined}
            />
            {turn.changes.length > 0 && (
              <div className="graph-diff" aria-label={t('graphDiff')}>
                <h3>{t('graphDiff')}</h3>
                <ul>
                  {turn.changes.map((c) => (
                    <li key={c.id} data-change={c.change}>
                      {c.change === 'added' ? '+' : c.change === 'removed' ? '−' : '~'} {c.id} <code>{c.ref}</code> ({t(c.change)})
                    </li>
                  ))}
                </ul>
              </div>
            )}
            <p className="muted">
              {t('fits')}: {(turn.draft.spec.providers ?? []).join(', ') || '—'}
            </p>
            <Tabs
              names={[t('wiring'), t('flowLint')]}
              label={t('details')}
              render={(tab) =>
                tab === t('wiring') ? (
                  <WiringTable steps={steps} problems={problems} />
                ) : (
                  <>
                    <p className={turn.checks.ok ? 'ok' : 'bad'} role="status">
                      {turn.checks.ok ? '✓ ' + t('checksPassed') : '✗ ' + t('checksFailed')}
                    </p>
                    <ul className="findings">{problems.map((p) => <li key={p}>{p}</li>)}</ul>
                    <FileTabs files={turn.draft.spec.files ?? {}} />
                  </>
                )
              }
            />
          </Panel>
          <Panel title={t('dialogue')}>
            <ol className="thread">
              {turns.map((x, i) => (
                <li key={i} aria-current={i === at ? 'step' : undefined}>
                  <span className="who">
                    {t('turn')} {i + 1} · {x.draft.spec.steps.length} {t('steps').toLowerCase()} · {x.gaps.length} {t('gaps').toLowerCase()}
                  </span>
                  <p>{x.message}</p>
                  {i !== at && (
                    <button type="button" className="link" onClick={() => setAt(i)}>
                      {t('goBack')}
                    </button>
                  )}
                </li>
              ))}
            </ol>
            <NeedBox
              label={t('refine')}
              hint={t('refineHint')}
              value={message}
              onChange={setMessage}
              onSubmit={() => compose(message, turn.conversation, message)}
              rows={2}
            />
            <button
              type="button"
              disabled={action.busy || !message.trim()}
              onClick={() => (compose(message, turn.conversation, message), setMessage(''))}
            >
              {t('send')}
            </button>
          </Panel>
          <SavePanel draft={turn.draft} disabled={turn.gaps.length > 0} onSaved={onSaved} />
        </div>
      )}

      <dialog ref={dialog} aria-label={level === 'pipeline' ? t('entityComposer') : t('pipelineComposer')} onClose={() => setGap(null)}>
        <div className="chips">
          <strong>
            {t('gap')}: {gap?.need}
          </strong>
          <button type="button" onClick={() => dialog.current?.close()}>
            {t('backTo')}
          </button>
        </div>
        {gap && level === 'pipeline' && <EntityComposer initial={request ?? undefined} onSaved={gapFilled} />}
        {gap && level === 'meta' && <CompositeComposer level="pipeline" initial={request ?? undefined} onSaved={gapFilled} />}
      </dialog>
    </div>
  )
}

/** A meta-pipeline member, expandable to its own steps and providers. */
function Members({ step }: { step: Step }) {
  const t = useT()
  const [open, setOpen] = useState(false)
  const [item, setItem] = useState<Draft | null>(null)
  const toggle = async () => {
    if (!item) setItem((await call<{ item: Draft }>('get_item', { ref: step.ref })).item)
    setOpen(!open)
  }
  return (
    <div className="members">
      <button type="button" aria-expanded={open} onClick={toggle}>
        {open ? t('collapse') : t('expand')}
      </button>
      {open && item && (
        <>
          <p className="muted">
            {t('provider')}: {(item.spec.providers ?? []).join(', ') || '—'}
          </p>
          <Graph steps={item.spec.steps ?? []} renderStep={(s) => (s.ref.startsWith('entity:') ? null : <Members step={s} />)} />
        </>
      )}
    </div>
  )
}
