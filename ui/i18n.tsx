// The UI text in English and French, and the switch between them (shared by the four apps).
import { createContext, useContext, useState, type ReactNode } from 'react'

export type Lang = 'en' | 'fr'

const TEXT = {
  language: ['Language', 'Langue'],
  needTitle: ['Need', 'Besoin'],
  need: ['Describe the need', 'Décrivez le besoin'],
  needHint: ['In English or French, e.g. "nginx on this machine"', 'En français ou en anglais, p. ex. « nginx sur cette machine »'],
  tool: ['Tool', 'Outil'],
  provider: ['Provider', 'Fournisseur'],
  anyChoice: ['any', 'au choix'],
  name: ['Name', 'Nom'],
  generate: ['Generate', 'Générer'],
  generating: ['Generating…', 'Génération…'],
  compose: ['Compose', 'Composer'],
  composing: ['Composing…', 'Composition…'],
  draft: ['Draft', 'Brouillon'],
  files: ['Files', 'Fichiers'],
  recheck: ['Re-check', 'Revérifier'],
  checks: ['Checks', 'Vérifications'],
  checksPassed: ['All checks passed', 'Toutes les vérifications passent'],
  checksFailed: ['Checks failed', 'Des vérifications échouent'],
  ran: ['ran', 'exécutées'],
  skipped: ['skipped', 'ignorées'],
  warnings: ['Warnings', 'Avertissements'],
  errors: ['Errors', 'Erreurs'],
  line: ['line', 'ligne'],
  unused: ['Specifics of the need the draft did not use', 'Précisions du besoin non utilisées'],
  dialogue: ['Dialogue', 'Dialogue'],
  turn: ['Turn', 'Tour'],
  refine: ['Ask for a change', 'Demander une modification'],
  refineHint: ['e.g. "use 5 nodes in de-fra-1"', 'p. ex. « utilise 5 nœuds à de-fra-1 »'],
  send: ['Send', 'Envoyer'],
  diff: ['Changes from the previous turn', 'Modifications depuis le tour précédent'],
  accept: ['Accept', 'Accepter'],
  reject: ['Reject', 'Rejeter'],
  accepted: ['accepted', 'accepté'],
  proposed: ['proposed', 'proposé'],
  rejected: ['rejected', 'rejeté'],
  goBack: ['Back to this turn', 'Revenir à ce tour'],
  save: ['Save', 'Enregistrer'],
  teach: ['Teach Fractal this solution', 'Apprendre cette solution à Fractal'],
  teachWhat: ['Make this draft a reusable template (a Rune) for similar needs', 'Faire de ce brouillon un modèle réutilisable (une Rune) pour des besoins proches'],
  task: ['What it does (the task)', 'Ce qu’elle fait (la tâche)'],
  confidence: ['Confidence (0–1)', 'Confiance (0–1)'],
  knowledgeTargets: ['Knowledge catalog (none checked = the default one)', 'Catalogue de connaissances (aucun coché = celui par défaut)'],
  teachButton: ['Teach', 'Apprendre'],
  learned: ['Learned as', 'Appris comme'],
  saving: ['Saving…', 'Enregistrement…'],
  targets: ['Git targets', 'Cibles Git'],
  bump: ['Version bump', 'Incrément de version'],
  expectedVersion: ['Expected current version', 'Version actuelle attendue'],
  saved: ['Saved', 'Enregistré'],
  commit: ['commit', 'commit'],
  tag: ['tag', 'tag'],
  pending: ['Pending targets (replayed by sync)', 'Cibles en attente (rejouées par sync)'],
  conflict: ['Conflict: the catalog holds another version', 'Conflit : le catalogue contient une autre version'],
  mine: ['mine', 'le mien'],
  current: ['current', 'actuel'],
  overwrite: ['Overwrite', 'Écraser'],
  hint: ['What to do', 'Que faire'],
  dismiss: ['Dismiss', 'Fermer'],
  offline: ['No LLM configured: the offline generator answers (templates).', 'Aucun LLM configuré : le générateur hors ligne répond (modèles).'],
  search: ['Search the catalog', 'Rechercher dans le catalogue'],
  find: ['Find', 'Chercher'],
  kind: ['Kind', 'Type'],
  tag_: ['Tag', 'Étiquette'],
  target: ['Target', 'Cible'],
  all: ['all', 'tous'],
  results: ['Results', 'Résultats'],
  noResults: ['Nothing found', 'Rien trouvé'],
  details: ['Details', 'Détails'],
  readme: ['README', 'README'],
  graph: ['Graph', 'Graphe'],
  after: ['after', 'après'],
  history: ['History', 'Historique'],
  usedBy: ['Used by', 'Utilisé par'],
  via: ['via', 'via'],
  compareWith: ['Diff with', 'Différence avec'],
  run: ['Run', 'Lancer'],
  launch: ['Launch', 'Exécuter'],
  running: ['Running…', 'Exécution…'],
  mode: ['Mode', 'Mode'],
  inputs: ['Inputs', 'Entrées'],
  outputs: ['Outputs', 'Sorties'],
  credentials: ['Credentials', 'Identifiants'],
  credential: ['Credential', 'Identifiant'],
  byDefault: ['default', 'par défaut'],
  noResource: ['no resource of this type in the workspace; create', 'aucune ressource de ce type dans l’espace de travail ; créez'],
  present: ['present', 'présents'],
  missing: ['missing', 'manquants'],
  doesNotFit: ['does not fit', 'ne convient pas'],
  steps: ['Steps', 'Étapes'],
  status: ['Status', 'Statut'],
  log: ['Log', 'Journal'],
  runs: ['Runs', 'Exécutions'],
  duration: ['Duration', 'Durée'],
  gaps: ['Gaps', 'Manques'],
  gap: ['gap', 'manque'],
  generateThis: ['Generate this entity', 'Générer cette entité'],
  composeThis: ['Compose this pipeline', 'Composer ce pipeline'],
  backTo: ['Back to the composition', 'Retour à la composition'],
  wiring: ['Wiring', 'Câblage'],
  step: ['Step', 'Étape'],
  input: ['Input', 'Entrée'],
  source: ['Source', 'Source'],
  unbound: ['unbound', 'non relié'],
  explanation: ['Explanation', 'Explication'],
  flowLint: ['Compiled flow', 'Flux compilé'],
  graphDiff: ['Graph changes', 'Modifications du graphe'],
  added: ['added', 'ajouté'],
  removed: ['removed', 'retiré'],
  changed: ['changed', 'modifié'],
  members: ['Members', 'Membres'],
  expand: ['Expand', 'Déplier'],
  collapse: ['Collapse', 'Replier'],
  fits: ['Providers that fit every member', 'Fournisseurs compatibles avec tous les membres'],
  close: ['Close', 'Fermer'],
  entityComposer: ['Entity composer', "Composeur d'entités"],
  pipelineComposer: ['Pipeline composer', 'Composeur de pipelines'],
  metaComposer: ['Meta-pipeline composer', 'Composeur de méta-pipelines'],
  catalogExplorer: ['Catalog explorer', 'Explorateur de catalogue'],
  repositoryAudit: ['Repository audit', 'Audit de dépôt'],
  repository: ['Repository', 'Dépôt'],
  repositoryHint: ['a folder, a Git URL or a git_repository resource path', 'un dossier, une URL Git ou le chemin d’une ressource git_repository'],
  ref: ['Branch or tag', 'Branche ou tag'],
  dimensions: ['What to check', 'Quoi vérifier'],
  audit: ['Audit', 'Auditer'],
  auditing: ['Auditing…', 'Audit en cours…'],
  score: ['GitOps score', 'Score GitOps'],
  grade: ['grade', 'note'],
  checkTitle: ['Check', 'Vérification'],
  evidence: ['Evidence', 'Éléments'],
  weight: ['weight', 'poids'],
  onlyFailing: ['Only checks that lost points', 'Seulement les vérifications qui perdent des points'],
  findings: ['Findings', 'Constats'],
  severity: ['Severity', 'Gravité'],
  category: ['Category', 'Catégorie'],
  filterText: ['Filter', 'Filtrer'],
  notChecked: ['Not checked (no false all clear)', 'Non vérifié (pas de faux « tout va bien »)'],
  structure: ['Structure', 'Structure'],
  migration: ['Migration to GitOps', 'Migration vers GitOps'],
  environments: ['Environments', 'Environnements'],
  registry: ['Image registry', 'Registre d’images'],
  gitopsRepo: ['GitOps repository (Argo CD pulls it)', 'Dépôt GitOps (Argo CD le tire)'],
  useHelm: ['Helm chart instead of kustomize', 'Chart Helm au lieu de kustomize'],
  scaffold: ['Scaffold the migration', 'Préparer la migration'],
  scaffolding: ['Scaffolding and rescanning…', 'Préparation et nouvel audit…'],
  before: ['before', 'avant'],
  drafts: ['Drafts', 'Brouillons'],
  saveDrafts: ['Save the drafts and the pipeline', 'Enregistrer les brouillons et le pipeline'],
  loading: ['Loading…', 'Chargement…'],
  version: ['Version', 'Version'],
  author: ['Author', 'Auteur'],
  when: ['When', 'Quand'],
} as const

export type TextKey = keyof typeof TEXT

type LangState = { lang: Lang; setLang: (lang: Lang) => void }
const LangContext = createContext<LangState>({ lang: 'en', setLang: () => {} })
const STORE = 'fractal.lang'

function initialLang(): Lang {
  try {
    const kept = localStorage.getItem(STORE)
    if (kept === 'en' || kept === 'fr') return kept
  } catch {
    // storage can be unavailable in a sandboxed frame
  }
  return navigator.language?.startsWith('fr') ? 'fr' : 'en'
}

export function LangProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang)
  const setLang = (next: Lang) => {
    setLangState(next)
    document.documentElement.lang = next
    try {
      localStorage.setItem(STORE, next)
    } catch {
      // not kept: the choice still holds for this page
    }
  }
  return <LangContext.Provider value={{ lang, setLang }}>{children}</LangContext.Provider>
}

export function useLang(): LangState {
  return useContext(LangContext)
}

/** t('save') → the text in the chosen language. */
export function useT(): (key: TextKey) => string {
  const { lang } = useLang()
  return (key) => TEXT[key][lang === 'fr' ? 1 : 0]
}

export function LangSwitch() {
  const { lang, setLang } = useLang()
  const t = useT()
  return (
    <div className="lang" role="group" aria-label={t('language')}>
      {(['en', 'fr'] as const).map((code) => (
        <button key={code} type="button" aria-pressed={lang === code} onClick={() => setLang(code)} lang={code}>
          {code === 'en' ? 'English' : 'Français'}
        </button>
      ))}
    </div>
  )
}
