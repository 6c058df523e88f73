// Pipeline composer: a need → a pipeline of pinned catalog entities; gaps open the entity composer.
import { Shell } from '/ui/components'
import { CompositeComposer } from '/ui/composite'

const params = new URLSearchParams(window.location.search)

export default function App() {
  return (
    <Shell title="pipelineComposer">
      <CompositeComposer level="pipeline" initial={{ need: params.get('need') ?? '', provider: params.get('provider') ?? '' }} />
    </Shell>
  )
}
