// Meta-pipeline composer: a need → a flow of pipelines (and meta-pipelines); gaps open the pipeline composer.
import { Shell } from '/ui/components'
import { CompositeComposer } from '/ui/composite'

const params = new URLSearchParams(window.location.search)

export default function App() {
  return (
    <Shell title="metaComposer">
      <CompositeComposer level="meta" initial={{ need: params.get('need') ?? '', provider: params.get('provider') ?? '' }} />
    </Shell>
  )
}
