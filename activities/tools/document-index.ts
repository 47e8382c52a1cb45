/**
 * The document-index tool: agents store documents under a namespace and look them up later by TF-IDF
 * cosine similarity. It is persistent and shared by every worker process on one machine.
 *
 * Storage is one JSON-lines file per namespace, `<dir>/<namespace>.jsonl`, one record per line. Writers
 * only ever append; readers read the whole file and let the last record of an id win. That needs no lock
 * and no coordination between processes because of how appends work:
 *
 * - The file is opened with `O_APPEND` (`fs.appendFile`), so the kernel moves the offset to the end of
 *   the file and writes in one step: two processes never write at the same offset and overwrite each other.
 * - Each batch of complete lines is handed to one `write(2)` call: Node's `appendFile` writes in chunks of
 *   512 KiB, and a batch is at most {@link MAX_APPEND_BYTES} (256 KiB). On Linux local file systems (ext4,
 *   xfs, btrfs, tmpfs) a regular-file `write(2)` holds the inode lock for its whole length, so concurrent
 *   appends land one after the other, never interleaved: a reader sees only whole lines (plus, at worst,
 *   the not-yet-finished tail of a write in progress, which it skips because it does not parse).
 *
 * Limits: not for network file systems (NFS does not make `O_APPEND` atomic across machines). A write
 * torn by a crash or a full disk leaves one unparseable line that readers skip; the record written right
 * after it would be glued onto it and lost too. Files only grow: re-indexing appends a new version and
 * nothing compacts old ones, which is fine at tool scale (lookups read the whole file anyway).
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../common/config';
import { termCounts, tokenize } from './text';
import { expected, invalidInput, parseInput } from '../../common/activity-input';
import { compareIds, queryField, topKField } from './validation';

/** Largest batch handed to one `appendFile` call; below Node's 512 KiB write chunk, so one `write(2)`. */
const MAX_APPEND_BYTES = 256 * 1024;
/** Version of the record format, written into every line so a later format can read older files. */
const RECORD_VERSION = 1;

/** Namespaces are file names: letters, digits, `_` and `-` only, so no name can reach outside the folder. */
export const NAMESPACE_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

/** A document to store. */
export interface DocumentInput {
  /** Unique within the namespace; indexing an id again replaces its document. 1 to 256 characters. */
  id: string;
  /** The searchable text; at most 20,000 characters. */
  text: string;
  /** Returned with lookups, not searched. At most 32 entries; keys up to 64, values up to 1,024 characters. */
  metadata?: Record<string, string>;
}

export interface IndexDocumentsInput {
  /** Matches {@link NAMESPACE_PATTERN}. */
  namespace: string;
  /** 1 to 1,000 documents; when an id occurs twice, the later one wins. */
  documents: DocumentInput[];
}

export interface IndexDocumentsResult {
  /** Documents appended to the namespace (new, or changed since they were last indexed). */
  written: number;
  /**
   * Documents skipped because the namespace already held the same text and metadata under that id. An id
   * given twice in one call counts once, in `written` or here.
   */
  unchanged: number;
}

export interface LookupDocumentsInput {
  /** Matches {@link NAMESPACE_PATTERN}; a namespace nothing was indexed into yet holds no documents. */
  namespace: string;
  /** Free text; must contain a non-space character. At most 1,000 characters. */
  query: string;
  /** Most matches to return, 1 to 50. @default 5 */
  topK?: number;
}

/** One stored document and its similarity to the query. */
export interface DocumentMatch {
  id: string;
  /** TF-IDF cosine similarity in (0, 1]; larger is more similar. */
  score: number;
  text: string;
  /** `{}` when the document was indexed without metadata. */
  metadata: Record<string, string>;
}

/** A document index stored in one folder; every instance on the same folder sees the same documents. */
export interface DocumentIndex {
  /** Absolute path of the folder holding the namespace files. */
  readonly dir: string;
  /** See {@link indexDocuments}. */
  index(input: IndexDocumentsInput): Promise<IndexDocumentsResult>;
  /** See {@link lookupDocuments}. */
  lookup(input: LookupDocumentsInput): Promise<DocumentMatch[]>;
}

const namespaceSchema = z
  .string({ error: expected('a string') })
  .regex(NAMESPACE_PATTERN, 'must be 1 to 64 letters, digits, "_" or "-"');

const metadataSchema = z
  .record(z.string().max(64, 'keys must be at most 64 characters'), z.string({ error: expected('a string') }).max(1024))
  .refine((m) => Object.keys(m).length <= 32, 'must have at most 32 entries');

const indexInputSchema = z.strictObject({
  namespace: namespaceSchema,
  documents: z
    .array(
      z.strictObject({
        id: z
          .string({ error: expected('a string') })
          .min(1, 'must not be empty')
          .max(256, 'must be at most 256 characters'),
        text: z.string({ error: expected('a string') }).max(20_000, 'must be at most 20000 characters'),
        metadata: metadataSchema.optional(),
      }),
      { error: expected('an array') },
    )
    .min(1, 'must hold at least one document')
    .max(1000, 'must hold at most 1000 documents'),
});

const lookupInputSchema = z.strictObject({
  namespace: namespaceSchema,
  query: queryField,
  topK: topKField,
});

/** One line of a namespace file. */
const recordSchema = z.object({
  v: z.literal(RECORD_VERSION),
  id: z.string(),
  text: z.string(),
  metadata: z.record(z.string(), z.string()),
});
type StoredDocument = Omit<z.output<typeof recordSchema>, 'v'>;

/** Metadata with its keys sorted, so equal metadata serialises to equal JSON whatever order the caller used. */
function sortedMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata ?? {}).sort(([a], [b]) => compareIds(a, b)));
}

function sameDocument(a: StoredDocument, b: StoredDocument): boolean {
  return a.text === b.text && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);
}

/** The current documents of a namespace file: the last record of each id wins; unparseable lines are skipped. */
async function readNamespace(file: string): Promise<Map<string, StoredDocument>> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw err;
  }
  const docs = new Map<string, StoredDocument>();
  for (const line of content.split('\n')) {
    if (!line) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      // A torn write (see the module comment) or a write still in progress: not a whole record, so skip it.
      continue;
    }
    const record = recordSchema.safeParse(parsed);
    if (!record.success) continue;
    const { id, text, metadata } = record.data;
    // Delete first so the map's order is the order of the latest writes; it keeps ties in lookups stable.
    docs.delete(id);
    docs.set(id, { id, text, metadata });
  }
  return docs;
}

/** Splits lines into batches of at most {@link MAX_APPEND_BYTES}, each a whole number of lines. */
function batchLines(lines: readonly Buffer[]): Buffer[] {
  const batches: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const line of lines) {
    if (size + line.length > MAX_APPEND_BYTES && current.length) {
      batches.push(Buffer.concat(current));
      current = [];
      size = 0;
    }
    current.push(line);
    size += line.length;
  }
  if (current.length) batches.push(Buffer.concat(current));
  return batches;
}

/** Documents ranked by TF-IDF cosine similarity to `query` (sublinear tf, smoothed idf, as scikit-learn). */
function rank(docs: readonly StoredDocument[], query: string, topK: number): DocumentMatch[] {
  const docCounts = docs.map((d) => termCounts(tokenize(d.text)));
  const df = new Map<string, number>();
  for (const counts of docCounts) for (const term of counts.keys()) df.set(term, (df.get(term) ?? 0) + 1);
  const n = docs.length;
  const idf = (term: string): number => Math.log((1 + n) / (1 + (df.get(term) ?? 0))) + 1;
  const weight = (count: number, term: string): number => (1 + Math.log(count)) * idf(term);

  // Terms no stored document contains cannot match anything; leaving them out of the query vector (as a
  // vocabulary fitted on the documents would) does not change the order, only keeps scores comparable.
  const queryVector = new Map<string, number>();
  for (const [term, count] of termCounts(tokenize(query))) {
    if (df.has(term)) queryVector.set(term, weight(count, term));
  }
  const queryNorm = Math.hypot(...queryVector.values());
  if (queryNorm === 0) return [];

  const matches: DocumentMatch[] = [];
  docs.forEach((doc, i) => {
    const counts = docCounts[i] ?? new Map<string, number>();
    let dot = 0;
    let normSquared = 0;
    for (const [term, count] of counts) {
      const w = weight(count, term);
      normSquared += w * w;
      dot += w * (queryVector.get(term) ?? 0);
    }
    if (dot > 0) {
      matches.push({
        id: doc.id,
        score: dot / (Math.sqrt(normSquared) * queryNorm),
        text: doc.text,
        metadata: doc.metadata,
      });
    }
  });
  return matches.sort((a, b) => b.score - a.score || compareIds(a.id, b.id)).slice(0, topK);
}

/**
 * A document index whose namespace files live in `dir` (created on first write). Instances are cheap and
 * hold no state besides the folder, so any number of them, in any number of processes, can share it.
 */
export function createDocumentIndex(dir: string): DocumentIndex {
  const root = path.resolve(dir);
  const fileOf = (namespace: string): string => path.join(root, `${namespace}.jsonl`);

  return {
    dir: root,

    async index(input) {
      const { namespace, documents } = parseInput('indexDocuments', indexInputSchema, input);
      // Within one call a repeated id keeps only its last document, like separate calls in that order would.
      const latest = new Map<string, StoredDocument>();
      for (const d of documents) {
        latest.delete(d.id);
        latest.set(d.id, { id: d.id, text: d.text, metadata: sortedMetadata(d.metadata) });
      }
      const file = fileOf(namespace);
      // Skipping documents the file already holds keeps a retried activity from growing the file. Another
      // process may write between this read and the append; then both versions are appended and the later
      // line wins, exactly as if the calls had not overlapped.
      const stored = await readNamespace(file);
      const lines: Buffer[] = [];
      let unchanged = 0;
      for (const doc of latest.values()) {
        const previous = stored.get(doc.id);
        if (previous && sameDocument(previous, doc)) {
          unchanged++;
          continue;
        }
        const line = Buffer.from(`${JSON.stringify({ v: RECORD_VERSION, ...doc })}\n`, 'utf8');
        if (line.length > MAX_APPEND_BYTES) {
          const position = documents.findIndex((d) => d.id === doc.id);
          invalidInput(
            'indexDocuments',
            `documents[${position}]`,
            `is ${line.length} bytes as JSON, at most ${MAX_APPEND_BYTES}`,
          );
        }
        lines.push(line);
      }
      if (lines.length) {
        await mkdir(root, { recursive: true });
        for (const batch of batchLines(lines)) await appendFile(file, batch);
      }
      return { written: lines.length, unchanged };
    },

    async lookup(input) {
      const { namespace, query, topK } = parseInput('lookupDocuments', lookupInputSchema, input);
      const docs = await readNamespace(fileOf(namespace));
      return rank([...docs.values()], query, topK);
    },
  };
}

let defaultIndex: DocumentIndex | undefined;

/** The index the activities use: `<NALAR_DATA_DIR>/doc-index`, resolved once per process. */
function getDefaultIndex(): DocumentIndex {
  defaultIndex ??= createDocumentIndex(path.join(loadConfig().dataDir, 'doc-index'));
  return defaultIndex;
}

/**
 * Stores documents in a namespace of the shared index under `<NALAR_DATA_DIR>/doc-index` (the data folder
 * is read from the configuration once per process). Indexing an id again replaces its document; indexing
 * the same id, text and metadata again (an activity retry) writes nothing and leaves one document.
 *
 * @throws ApplicationFailure (non-retryable, type `NALAR_ERR_INVALID_INPUT`) for a bad namespace, an empty or
 *   oversized batch, or a bad document; the message names the field (`documents[3].id`).
 */
export async function indexDocuments(input: IndexDocumentsInput): Promise<IndexDocumentsResult> {
  return getDefaultIndex().index(input);
}

/**
 * Returns the `topK` (default 5, at most 50) documents of a namespace most similar to `query` by TF-IDF
 * cosine similarity, best first (ties by id); documents sharing no term with the query are left out. Sees
 * every write that finished before it started, from any process on the machine.
 *
 * @throws ApplicationFailure (non-retryable, type `NALAR_ERR_INVALID_INPUT`) for a bad namespace, an empty
 *   query or a `topK` outside 1..50.
 */
export async function lookupDocuments(input: LookupDocumentsInput): Promise<DocumentMatch[]> {
  return getDefaultIndex().lookup(input);
}
