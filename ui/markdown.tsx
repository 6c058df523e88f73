// A catalog README (Markdown) as React elements: headings, paragraphs, lists, tables, fenced code, and
// inline code, bold, emphasis and links. Nothing is ever parsed as HTML: a `<script>` in the text is
// shown as text, and only http(s) links become links (others stay plain text).
import { type ReactNode } from 'react'

type Block =
  | { type: 'heading'; level: number; text: string }
  | { type: 'code'; lang: string; text: string }
  | { type: 'list'; ordered: boolean; items: string[] }
  | { type: 'table'; head: string[]; rows: string[][] }
  | { type: 'paragraph'; text: string }

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'))

/** Markdown text → blocks (the subset the catalog's generated READMEs use, and what people write by hand). */
export function blocks(text: string): Block[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n')
  const out: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]
    const fence = /^```\s*([\w-]*)/.exec(line)
    if (fence) {
      const body: string[] = []
      for (i++; i < lines.length && !lines[i].startsWith('```'); i++) body.push(lines[i])
      out.push({ type: 'code', lang: fence[1], text: body.join('\n') })
      i++
    } else if (/^#{1,6}\s/.test(line)) {
      const m = /^(#{1,6})\s+(.*)$/.exec(line)!
      out.push({ type: 'heading', level: m[1].length, text: m[2] })
      i++
    } else if (/^\s*\|.*\|\s*$/.test(line) && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? '')) {
      const head = cells(line)
      const rows: string[][] = []
      for (i += 2; i < lines.length && /^\s*\|.*\|\s*$/.test(lines[i]); i++) rows.push(cells(lines[i]))
      out.push({ type: 'table', head, rows })
    } else if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line)
      const items: string[] = []
      for (; i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i]); i++) items.push(lines[i].replace(/^\s*([-*+]|\d+[.)])\s+/, ''))
      out.push({ type: 'list', ordered, items })
    } else if (line.trim()) {
      const para: string[] = []
      for (; i < lines.length && lines[i].trim() && !/^(#{1,6}\s|```|\s*\||\s*([-*+]|\d+[.)])\s)/.test(lines[i]); i++) para.push(lines[i])
      if (!para.length) para.push(lines[i++]) // a line that looked like a block start but is not one
      out.push({ type: 'paragraph', text: para.join(' ') })
    } else i++
  }
  return out
}

// emphasis only between word boundaries: `app_workdir and app_config` is not emphasised
const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\[[^\]]+\]\([^)\s]+\))|((?<!\w)_[^_]+_(?!\w)|(?<!\w)\*[^*\s][^*]*\*(?!\w))/

/** Inline Markdown → React nodes (text is always a text node). */
export function inline(text: string): ReactNode[] {
  const out: ReactNode[] = []
  let rest = text
  let key = 0
  while (rest) {
    const m = INLINE.exec(rest)
    if (!m) {
      out.push(rest)
      break
    }
    if (m.index) out.push(rest.slice(0, m.index))
    const token = m[0]
    if (m[1]) out.push(<code key={key++}>{token.slice(1, -1)}</code>)
    else if (m[2]) out.push(<strong key={key++}>{inline(token.slice(2, -2))}</strong>)
    else if (m[3]) {
      const [, label, href] = /^\[([^\]]+)\]\(([^)\s]+)\)$/.exec(token)!
      out.push(
        /^https?:\/\//i.test(href) ? (
          <a key={key++} href={href} target="_blank" rel="noopener noreferrer">
            {inline(label)}
          </a>
        ) : (
          <span key={key++} className="link-text">
            {inline(label)}
          </span>
        ),
      )
    } else out.push(<em key={key++}>{inline(token.slice(1, -1))}</em>)
    rest = rest.slice(m.index + token.length)
  }
  return out
}

export function Markdown({ text, label }: { text: string; label: string }) {
  return (
    <article className="markdown" aria-label={label}>
      {blocks(text).map((b, i) => {
        switch (b.type) {
          case 'heading': {
            const H = `h${Math.min(6, b.level + 1)}` as 'h2' // one level below the page's own headings
            return <H key={i}>{inline(b.text)}</H>
          }
          case 'code':
            return (
              <pre key={i} className="code-block" data-lang={b.lang || undefined}>
                <code>{b.text}</code>
              </pre>
            )
          case 'list': {
            const L = b.ordered ? 'ol' : 'ul'
            return <L key={i}>{b.items.map((it, j) => <li key={j}>{inline(it)}</li>)}</L>
          }
          case 'table':
            return (
              <table key={i}>
                <thead>
                  <tr>{b.head.map((h, j) => <th key={j} scope="col">{inline(h)}</th>)}</tr>
                </thead>
                <tbody>
                  {b.rows.map((r, j) => (
                    <tr key={j}>{r.map((c, k) => <td key={k}>{inline(c)}</td>)}</tr>
                  ))}
                </tbody>
              </table>
            )
          default:
            return <p key={i}>{inline(b.text)}</p>
        }
      })}
    </article>
  )
}
