// The building blocks the four apps share: page shell, errors, validation report, diffs, file tabs,
// Git target picker, step graph and wiring table.
import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react'
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

/** The workspace's git_repository resources as a multi-select (defaults pre-checked unless `preselect` is false). */
export function TargetPicker({
  selected,
  onChange,
  preselect = true,
  legend,
}: {
  selected: string[]
  onChange: (paths: string[]) => void
  preselect?: boolean
  legend?: string
}) {
  const t = useT()
  const [targets, setTargets] = useState<Target[]>([])
  const [error, setError] = useState<FractalUiError | null>(null)
  useEffect(() => {
    call<{ targets: Target[] }>('list_targets', {})
      .then((r) => {
        setTargets(r.targets)
        if (preselect && !selected.length) onChange(r.targets.filter((x) => x.default).map((x) => x.path))
      })
      .catch((e) => setError(toUiError(e)))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  const toggle = (path: string) => onChange(selected.includes(path) ? selected.filter((p) => p !== path) : [...selected, path])
  return (
    <fieldset className="targets">
      <legend>{legend ?? t('targets')}</legend>
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

/** A link between two steps: `to` runs after `from` (its needs), and takes these outputs of it (its wiring). */
export type Edge = { from: string; to: string; data: string[] }

const wiredFrom = (v: any) => (typeof v === 'object' && v && typeof v.from === 'string' ? /^steps\.([^.]+)\.outputs\.(.+)$/.exec(v.from) : null)

/** The step graph's links, as the flow compiler orders the steps (model.composite.step_deps): a step's
 *  `needs` and the steps its inputs are wired from (`{from: steps.<id>.outputs.<name>}`). */
export function edgesOf(steps: Step[]): Edge[] {
  const ids = new Set(steps.map((s) => s.id))
  const edges = new Map<string, Edge>()
  const add = (from: string, to: string, data?: string) => {
    if (!ids.has(from) || from === to) return
    const edge = edges.get(`${from}>${to}`) ?? { from, to, data: [] }
    if (data) edge.data.push(data)
    edges.set(`${from}>${to}`, edge)
  }
  for (const s of steps) {
    for (const n of s.needs ?? []) add(n, s.id)
    for (const [name, v] of Object.entries(s.inputs ?? {})) {
      const m = wiredFrom(v)
      if (m) add(m[1], s.id, m[2] === name ? name : `${m[2]} → ${name}`)
    }
  }
  return [...edges.values()]
}

type Drawn = Edge & { d: string; x: number; y: number }

/** Steps laid out in columns by dependency depth, their links drawn (data links solid and labelled with
 *  the outputs they carry, order-only links dashed); gaps as named dashed nodes with an action. */
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
  const box = useRef<HTMLDivElement>(null)
  const [drawn, setDrawn] = useState<Drawn[]>([])
  const edges = edgesOf(steps)
  const upstream = (id: string) => edges.filter((e) => e.to === id).map((e) => e.from)
  const depth = new Map<string, number>()
  const level = (id: string, seen: string[] = []): number => {
    if (depth.has(id)) return depth.get(id)!
    const ups = upstream(id).filter((u) => !seen.includes(u)) // a loop (refused by the checks) must not hang the page
    const d = ups.length ? 1 + Math.max(...ups.map((u) => level(u, [...seen, id]))) : 0
    depth.set(id, d)
    return d
  }
  steps.forEach((s) => level(s.id))
  const columns: Step[][] = []
  steps.forEach((s) => (columns[depth.get(s.id)!] ??= []).push(s))
  const shape = JSON.stringify(edges)

  useLayoutEffect(() => {
    const el = box.current
    if (!el) return
    const draw = () => {
      const origin = el.getBoundingClientRect()
      const node = (id: string) =>
        el.querySelector(`:scope > .column > [data-step="${CSS.escape(id)}"]`)?.getBoundingClientRect()
      const lines: Drawn[] = []
      for (const e of edgesOf(steps)) {
        const a = node(e.from)
        const b = node(e.to)
        if (!a || !b) continue
        if (b.left >= a.right) {
          // side by side: from the right edge of `from` to the left edge of `to`
          const [x1, y1] = [a.right - origin.left, a.top + a.height / 2 - origin.top]
          const [x2, y2] = [b.left - origin.left, b.top + b.height / 2 - origin.top]
          const bend = Math.max(24, (x2 - x1) / 2)
          lines.push({ ...e, d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 4 })
        } else {
          // wrapped onto the next row (a narrow graph): from the bottom of `from` to the top of `to`
          const [x1, y1] = [a.left + a.width / 2 - origin.left, a.bottom - origin.top]
          const [x2, y2] = [b.left + b.width / 2 - origin.left, b.top - origin.top]
          const bend = Math.max(8, (y2 - y1) / 2)
          lines.push({ ...e, d: `M${x1},${y1} C${x1},${y1 + bend} ${x2},${y2 - bend} ${x2},${y2}`, x: (x1 + x2) / 2 + 40, y: (y1 + y2) / 2 + 4 })
        }
      }
      setDrawn(lines)
    }
    draw()
    const watch = new ResizeObserver(() => requestAnimationFrame(draw)) // drawn after layout, never inside it
    watch.observe(el)
    el.querySelectorAll(':scope > .column > .node').forEach((n) => watch.observe(n))
    return () => watch.disconnect()
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape])

  return (
    <div className="graph" role="list" aria-label={t('graph')} ref={box}>
      <svg className="edges" aria-hidden="true">
        <defs>
          <marker id="arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L8,4 L0,8 z" />
          </marker>
        </defs>
        {drawn.map((e) => (
          <g key={`${e.from}>${e.to}`} data-from={e.from} data-to={e.to} className={e.data.length ? 'data' : 'order'}>
            <path d={e.d} markerEnd="url(#arrow)" />
            {e.data.length > 0 && (
              <text x={e.x} y={e.y} textAnchor="middle">
                {e.data.join(', ')}
              </text>
            )}
          </g>
        ))}
      </svg>
      {columns.map((col, i) => (
        <div className="column" key={i}>
          {col.map((s) => (
            <div role="listitem" className="node" key={s.id} data-mark={marks[s.id] ?? ''} data-step={s.id}>
              <strong>{s.id}</strong>
              <code>{s.ref}</code>
              {s.summary && <span className="muted">{s.summary}</span>}
              {upstream(s.id).length > 0 && (
                <span className="sr-only">
                  {t('after')}: {edges.filter((e) => e.to === s.id).map((e) => e.from + (e.data.length ? ` (${e.data.join(', ')})` : '')).join('; ')}
                </span>
              )}
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
