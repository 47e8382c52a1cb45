/**
 * The one-line activity summary of a future (Temporal user metadata on the ActivityTaskScheduled event,
 * shown in the Web UI timeline): `textTools.join #4 ← textTools.shout #1, textTools.shout #2`. Workflow-side and
 * pure: it is built from the method names and call numbers the workflow already recorded, never from the
 * call's input values (they may be secret or large), so replay rebuilds the same text.
 */

/** Most bytes of a summary's JSON payload (quotes and escapes included, UTF-8). */
export const SUMMARY_MAX_BYTES = 200;

/** What the summary names of a future: its method and id. */
export interface SummaryPart {
  /** `<agent>.<method>` */
  activityType: string;
  /** The future id, `<workflowId>/<n>`. */
  id: string;
}

/** `#n` for a future id `<workflowId>/<n>`: the call number, which is short and unique within the run. */
export function shortFutureId(id: string): string {
  return `#${id.slice(id.lastIndexOf('/') + 1)}`;
}

/** Bytes of `text` as a JSON string payload (what the claim-check codec measures against its threshold). */
function jsonBytes(text: string): number {
  let bytes = 0;
  for (const ch of JSON.stringify(text)) {
    const cp = ch.codePointAt(0) ?? 0;
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** One line: control characters (newlines included) become spaces. */
function oneLine(text: string): string {
  return text.replace(/\p{Cc}/gu, ' ');
}

/** `text` cut (at a code point) so that it fits `maxBytes`, ending in `…` when cut. */
function fit(text: string, maxBytes: number): string {
  if (jsonBytes(text) <= maxBytes) return text;
  const chars = [...text];
  while (chars.length > 0 && jsonBytes(`${chars.join('')}…`) > maxBytes) chars.pop();
  return `${chars.join('')}…`;
}

/**
 * The summary of `future` whose arguments held `dependencies`: `<method> #<n>`, then `← ` and each
 * dependency as `<method> #<n>` in argument order. Guaranteed one line and at most {@link SUMMARY_MAX_BYTES}
 * as a JSON payload, so it is never offloaded to the blob store (the smallest offload threshold is 256
 * bytes) and stays readable without a codec; dependencies that do not fit are counted (`… +3 more`).
 */
export function futureSummary(future: SummaryPart, dependencies: readonly SummaryPart[]): string {
  const label = (p: SummaryPart): string => `${oneLine(p.activityType)} ${shortFutureId(p.id)}`;
  const head = fit(label(future), SUMMARY_MAX_BYTES);
  if (dependencies.length === 0) return head;
  const labels = dependencies.map(label);
  for (let shown = labels.length; shown >= 0; shown--) {
    const rest = labels.length - shown;
    const deps = [...labels.slice(0, shown), ...(rest > 0 ? [`… +${rest} more`] : [])].join(', ');
    const text = `${head} ← ${deps}`;
    if (jsonBytes(text) <= SUMMARY_MAX_BYTES) return text;
  }
  return fit(`${head} ← +${labels.length}`, SUMMARY_MAX_BYTES);
}
