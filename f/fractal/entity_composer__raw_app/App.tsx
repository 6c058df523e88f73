// Entity composer: a need in plain words → a checked draft, refined by dialogue, saved to Git targets.
import { Shell } from '/ui/components'
import { EntityComposer } from '/ui/entity'

const params = new URLSearchParams(window.location.search)

export default function App() {
  const initial = { need: params.get('need') ?? '', tool: params.get('tool') ?? '', provider: params.get('provider') ?? '' }
  return (
    <Shell title="entityComposer">
      <EntityComposer initial={initial} />
    </Shell>
  )
}
