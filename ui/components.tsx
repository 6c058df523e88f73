// The building blocks the four apps share: page shell, errors, validation report, diffs, file tabs,
// Git target picker, step graph and wiring table.
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react'
import { call, FractalUiError, toUiError } from './bridge'
import { type DiffLine } from './diff'
import { LangProvider, LangSwitch, useT, type TextKey } from './i18n'

export const TOOLS = ['', 'ansible', 'terraform', 'kubernetes', 'secret']
export const PROVIDERS = ['', 'local', 'k3s', 'exoscale', 'vastai', 'runpod']

export function Shell({ title, children }: { title: TextKey; children: ReactNode }) {
  return (
    <LangProvider>
      <ShellBody title={title}>{children}</ShellBody>
    </LangProvider>
  )
}

function ShellBody({ title, children }: { title: TextKey; children: ReactNode }) {
  const t = useT()
  useEffect(() => {
    document.title = `Fractal · ${t(title)}`
  })
  return (
    <div className="shell">
      <header className="top">
        <h1>
          <span className="brand">Fractal</span> {t(title)}
        </h1>
        <LangSwitch />
      </header>
      <main>{children}</main>
    </div>
  )
}

export function Panel({ title, children, className = '' }: { title: string; children: ReactNode; className?: string }) {
  const id = useId()
  return (
    <section className={`panel ${className}`} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  )
}

/** A failed call: the script's message, what to do, and the versions of a conflict. */
export function ErrorBanner({ error, onDismiss }: { error: FractalUiError | null; onDismiss?: () => void }) {
  const t = useT()
  if (!error) return null
  const targets = (error.data?.targets as any[] | undefined) ?? []
  return (
    <div className="error" role="alert" data-kind={error.kind}>
      <strong>{error.kind.replace(/_/g, ' ')}</strong>: {error.message}
      {error.hint && (
        <p>
          <em>{t('hint')}:</em> {error.hint}
        </p>
      )}
      {targets
        .filter((r) => r.status === 'conflict')
        .map((r) => (
          <p key={r.target}>
            {r.target}: {r.message}
          </p>
        ))}
      {onDismiss && (
        <button type="button" className="link" onClick={onDismiss}>
          {t('dismiss')}
        </button>
      )}
    </div>
  )
}

/** Run an async action with a busy flag and a normalised error. */
export function useAction() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<FractalUiError | null>(null)
  const run = async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true)
    setError(null)
    try {
      return await action()
    } catch (e) {
      setError(toUiError(e))
      return undefined
    } finally {
      setBusy(false)
    }
  }
  return { busy, error, setError, run }
}

export function Busy({ when, label }: { when: boolean; label: string }) {
  return (
    <p className="busy" role="status" aria-live="polite">
      {when ? label : ''}
    </p>
  )
}

export type Report = {
  ok: boolean
  errors: { file?: string; line?: number | null; message: string }[]
  warnings?: { file?: string; line?: number | null; message: string }[]
  checks_run?: string[]
  checks_skipped?: (string | { check?: string; reason?: string })[]
  unused?: (string | { text: string; required?: boolean })[]
}

function Findings({ items, title }: { items: Report['errors']; title: string }) {
  const t = useT()
  if (!items.length) return null
  return (
    <>
      <h3>{title}</h3>
      <ul className="findings">
        {items.map((f, i) => (
          <li key={i}>
            <code>
              {f.file || 'fractal.yaml'}
              {f.line ? `, ${t('line')} ${f.line}` : ''}
            </code>{' '}
            {f.message}
          </li>
        ))}
      </ul>
    </>
  )
}

/** The validation panel: verdict, findings with file and line, unused specifics, checks run and skipped. */
export function ReportView({ report }: { report: Report | null }) {
  const t = useT()
  if (!report) return null
  // the specifics of the need the draft does not carry (`*`: required ones)
  const unused = (report.unused ?? []).map((u) => (typeof u === 'string' ? u : `${u.text}${u.required ? ' *' : ''}`))
  const skipped = (report.checks_skipped ?? []).map((s) => (typeof s === 'string' ? s : `${s.check ?? ''} ${s.reason ?? ''}`))
  return (
    <div className="report" data-ok={report.ok}>
      <p className={report.ok ? 'ok' : 'bad'} role="status">
        {report.ok ? '✓ ' + t('checksPassed') : '✗ ' + t('checksFailed')}
      </p>
      <Findings items={report.errors} title={t('errors')} />
      <Findings items={report.warnings ?? []} title={t('warnings')} />
      {unused.length > 0 && (
        <>
          <h3>{t('unused')}</h3>
          <ul>{unused.map((u) => <li key={u}>{u}</li>)}</ul>
        </>
      )}
      <p className="muted">
        {t('checks')} {t('ran')}: {(report.checks_run ?? []).join(' · ')}
        {skipped.length > 0 && ` — ${t('skipped')}: ${skipped.join(' · ')}`}
      </p>
    </div>
  )
}

export function DiffLines({ lines, label }: { lines: DiffLine[]; label: string }) {
  const added = lines.filter((l) => l.op === '+').length
  const removed = lines.filter((l) => l.op === '-').length
  return (
    <figure className="diff" aria-label={label}>
      <figcaption>
        {label}: <span className="plus">+{added}</span> <span className="minus">−{removed}</span>
      </figcaption>
      <pre>
        {lines.map((l, i) => (
          <div key={i} className={l.op === '+' ? 'plus' : l.op === '-' ? 'minus' : ''}>
            {l.op === ' ' ? '  ' : l.op + ' '}
            {l.text}
          </div>
        ))}
      </pre>
    </figure>
  )
}

/** Tabs with arrow-key navigation (WAI-ARIA tabs pattern). */
export function Tabs({ names, label, render }: { names: string[]; label: string; render: (name: string) => ReactNode }) {
  const [active, setActive] = useState(0)
  const refs = useRef<(HTMLButtonElement | null)[]>([])
  const base = useId()
  const current = Math.min(active, Math.max(names.length - 1, 0))
  const onKey = (e: KeyboardEvent) => {
    const step = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0
    if (!step) return
    const next = (current + step + names.length) % names.length
    setActive(next)
    refs.current[next]?.focus()
  }
  if (!names.length) return null
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} onKeyDown={onKey}>
        {names.map((n, i) => (
          <button
            key={n}
            ref={(el) => {
              refs.current[i] = el
            }}
            role="tab"
            type="button"
            id={`${base}-tab-${i}`}
            aria-selected={i === current}
            aria-controls={`${base}-panel-${i}`}
            tabIndex={i === current ? 0 : -1}
            onClick={() => setActive(i)}
          >
            {n}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel-${current}`} aria-labelledby={`${base}-tab-${current}`}>
        {render(names[current])}
      </div>
    </div>
  )
}

/** One tab per file, each editable by hand. */
export function FileTabs({ files, onEdit }: { files: Record<string, string>; onEdit?: (name: string, text: string) => void }) {
  const t = useT()
  return (
    <Tabs
      names={Object.keys(files)}
      label={t('files')}
      render={(name) => (
        <textarea
          className="code"
          aria-label={name}
          spellCheck={false}
          readOnly={!onEdit}
          value={files[name]}
          rows={Math.min(24, Math.max(6, files[name].split('\n').length + 1))}
          onChange={(e) => onEdit?.(name, e.target.value)}
        />
      )}
    />
  )
}

export type Target = { path: string; description?: string; default?: boolean }

/** The workspace's git_repository resources as a multi-select (defaults pre-checked). */
export function TargetPicker({ selected, onChange }: { selected: string[]; onChange: (paths: string[]) => void }) {
  const t = useT()
  const [targets, setTargets] = useState<Target[]>([])
  const [error, setError] = useState<FractalUiError | null>(null)
  useEffect(() => {
    call<{ targets: Target[] }>('list_targets', {})
      .then((r) => {
        setTargets(r.targets)
        if (!selected.length) onChange(r.targets.filter((x) => x.default).map((x) => x.path))
      })
      .catch((e) => setError(toUiError(e)))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  const toggle = (path: string) => onChange(selected.includes(path) ? selected.filter((p) => p !== path) : [...selected, path])
  return (
    <fieldset className="targets">
      <legend>{t('targets')}</legend>
      <ErrorBanner error={error} />
      {targets.map((x) => (
        <label key={x.path} className="check">
          <input type="checkbox" checked={selected.includes(x.path)} onChange={() => toggle(x.path)} />
          <code>{x.path}</code> {x.description && <span className="muted">{x.description}</span>}
        </label>
      ))}
    </fieldset>
  )
}

export type Step = { id: string; ref: string; summary?: string; needs?: string[]; inputs?: Record<string, any> }
export type Gap = { need: string; reason?: string; generate_entity?: any; compose_pipeline?: any }

/** Steps laid out in columns by dependency depth; gaps as named dashed nodes with an action. */
export function Graph({
  steps,
  gaps = [],
  marks = {},
  onGap,
  gapLabel,
  renderStep,
}: {
  steps: Step[]
  gaps?: Gap[]
  marks?: Record<string, string>
  onGap?: (gap: Gap) => void
  gapLabel?: string
  renderStep?: (step: Step) => ReactNode
}) {
  const t = useT()
  const depth = new Map<string, number>()
  const order = steps.map((s) => s.id)
  const level = (s: Step): number => {
    if (depth.has(s.id)) return depth.get(s.id)!
    const needs = s.needs ?? (order.indexOf(s.id) > 0 ? [order[order.indexOf(s.id) - 1]] : [])
    const d = needs.length ? 1 + Math.max(...needs.map((n) => level(steps.find((x) => x.id === n) ?? { id: n, ref: '' }))) : 0
    depth.set(s.id, d)
    return d
  }
  steps.forEach(level)
  const columns: Step[][] = []
  steps.forEach((s) => (columns[depth.get(s.id)!] ??= []).push(s))
  return (
    <div className="graph" role="list" aria-label={t('graph')}>
      {columns.map((col, i) => (
        <div className="column" key={i}>
          {col.map((s) => (
            <div role="listitem" className="node" key={s.id} data-mark={marks[s.id] ?? ''} data-step={s.id}>
              <strong>{s.id}</strong>
              <code>{s.ref}</code>
              {s.summary && <span className="muted">{s.summary}</span>}
              {marks[s.id] && <span className={`mark ${marks[s.id]}`}>{marks[s.id]}</span>}
              {renderStep?.(s)}
            </div>
          ))}
        </div>
      ))}
      {gaps.map((g) => (
        <div role="listitem" className="node gap" key={g.need} data-gap={g.need}>
          <strong>
            {t('gap')}: {g.need}
          </strong>
          {g.reason && <span className="muted">{g.reason}</span>}
          {onGap && (
            <button type="button" onClick={() => onGap(g)}>
              {gapLabel ?? t('generateThis')}
            </button>
          )}
        </div>
      ))}
    </div>
  )
}

/** Every step input and where it comes from; inputs the checks name as unbound are flagged. */
export function WiringTable({ steps, problems = [] }: { steps: Step[]; problems?: string[] }) {
  const t = useT()
  const rows = steps.flatMap((s) => Object.entries(s.inputs ?? {}).map(([name, v]) => ({ step: s.id, name, v })))
  const flagged = (step: string, name: string) => problems.some((p) => p.includes(step) && p.includes(name))
  return (
    <table className="wiring">
      <caption>{t('wiring')}</caption>
      <thead>
        <tr>
          <th scope="col">{t('step')}</th>
          <th scope="col">{t('input')}</th>
          <th scope="col">{t('source')}</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(({ step, name, v }) => (
          <tr key={`${step}.${name}`} className={flagged(step, name) ? 'unbound' : ''}>
            <td>{step}</td>
            <td>{name}</td>
            <td>
              <code>{typeof v === 'object' && v && 'from' in v ? v.from : JSON.stringify(v)}</code>
              {flagged(step, name) && <strong className="bad"> — {t('unbound')}</strong>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** A labelled text area that submits on Ctrl/Cmd+Enter. */
export function NeedBox({
  label,
  hint,
  value,
  onChange,
  onSubmit,
  rows = 3,
}: {
  label: string
  hint: string
  value: string
  onChange: (v: string) => void
  onSubmit: () => void
  rows?: number
}) {
  const id = useId()
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        rows={rows}
        placeholder={hint}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) onSubmit()
        }}
      />
    </div>
  )
}

export function Select({
  label,
  value,
  options,
  onChange,
}: {
  label: string
  value: string
  options: { value: string; label: string; disabled?: boolean; title?: string }[]
  onChange: (v: string) => void
}) {
  const id = useId()
  return (
    <div className="field inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {options.map((o) => (
          <option key={o.value} value={o.value} disabled={o.disabled} title={o.title}>
            {o.label}
          </option>
        ))}
      </select>
    </div>
  )
}
