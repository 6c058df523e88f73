// Small line diffs for the screens (drafts are short: a longest-common-subsequence table is enough).

export type DiffLine = { op: '+' | '-' | ' '; text: string }

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n')
  const b = after.split('\n')
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  const out: DiffLine[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) out.push({ op: ' ', text: a[i++] }), j++
    else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) out.push({ op: '+', text: b[j++] })
    else out.push({ op: '-', text: a[i++] })
  }
  return out
}

/** A unified diff text (as refine_entity returns it) → lines with their op. */
export function parseUnified(text: string): DiffLine[] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('+++') && !l.startsWith('---'))
    .map((l) => ({ op: l[0] === '+' ? '+' : l[0] === '-' ? '-' : ' ', text: l[0] === '@' ? l : l.slice(1) }))
}

/** A stable, readable text form of an item for diffs: keys in order, files shown as their text. */
export function itemText(item: any): string {
  const { files, ...spec } = item?.spec ?? {}
  const head = JSON.stringify({ metadata: item?.metadata, spec }, null, 2)
  const bodies = Object.entries((files ?? {}) as Record<string, string>).map(([name, text]) => `--- ${name}\n${text}`)
  return [head, ...bodies].join('\n')
}

export type StepChange = { id: string; change: 'added' | 'removed' | 'changed'; ref: string }

/** What changed between two composites' steps (by step id). */
export function graphDiff(before: any, after: any): StepChange[] {
  const index = (item: any) => new Map<string, any>((item?.spec?.steps ?? []).map((s: any) => [s.id, s]))
  const old = index(before)
  const now = index(after)
  const out: StepChange[] = []
  for (const [id, s] of now) {
    if (!old.has(id)) out.push({ id, change: 'added', ref: s.ref })
    else if (JSON.stringify(old.get(id)) !== JSON.stringify(s)) out.push({ id, change: 'changed', ref: s.ref })
  }
  for (const [id, s] of old) if (!now.has(id)) out.push({ id, change: 'removed', ref: s.ref })
  return out
}
