/**
 * The tool activities: small functions and services the reference agent workloads call, not backed by an
 * LLM. Only activity functions and types are exported here, because the activities barrel re-exports this
 * module and the worker registers every exported function as an activity. Helpers that are not activities
 * (`createDocumentIndex`, `configureCodeRun`, …) are imported from their own modules.
 */
export { searchCorpus, type CorpusDocument, type SearchCorpusInput, type SearchHit } from './search';
export {
  indexDocuments,
  lookupDocuments,
  type DocumentInput,
  type DocumentMatch,
  type IndexDocumentsInput,
  type IndexDocumentsResult,
  type LookupDocumentsInput,
} from './document-index';
export { runCode, type RunCodeInput, type RunCodeResult, type CodeTestResult } from './code-run';
