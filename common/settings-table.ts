/**
 * The configuration table of README.md, generated from {@link settings}: `npm run docs` writes it between
 * {@link settingsTableMarkers}, and a test fails when the README's copy differs. It is laid out exactly as
 * Prettier lays out a markdown table, so the generated README passes `prettier --check`.
 */
import { formatDefault, settings } from './config';

/** The comments around the generated table in README.md. */
export const settingsTableMarkers = { start: '<!-- settings:start -->', end: '<!-- settings:end -->' } as const;

/** The markdown table of every setting: variable, default (see {@link formatDefault}) and meaning. */
export function settingsTable(): string {
  const rows = Object.values(settings).map((s) => {
    const shown = formatDefault(s.default);
    return [inlineCode(s.env), s.default === undefined ? shown : inlineCode(shown), s.doc];
  });
  return markdownTable(['variable', 'default', 'meaning'], rows);
}

/** The table currently between the markers of `readme` (without the blank lines around it). */
export function settingsTableIn(readme: string): string {
  const { before, after } = splitAtMarkers(readme);
  return readme.slice(before.length, readme.length - after.length).trim();
}

/** `readme` with the generated table between its markers; throws when the markers are missing. */
export function withSettingsTable(readme: string): string {
  const { before, after } = splitAtMarkers(readme);
  return `${before}\n\n${settingsTable()}\n\n${after}`;
}

function splitAtMarkers(readme: string): { before: string; after: string } {
  const start = readme.indexOf(settingsTableMarkers.start);
  const end = readme.indexOf(settingsTableMarkers.end, start);
  if (start < 0 || end < 0) {
    throw new Error(
      `README.md has no ${settingsTableMarkers.start} ... ${settingsTableMarkers.end} markers for the settings table`,
    );
  }
  return { before: readme.slice(0, start + settingsTableMarkers.start.length), after: readme.slice(end) };
}

/** A code span that survives backticks in `text` (a longer fence) and pipes (escaped, as tables need). */
function inlineCode(text: string): string {
  const longestRun = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/**
 * Prettier's layout of a left-aligned table: every column as wide as its widest cell (at least 3), cells
 * padded with spaces, the delimiter row all dashes. Width is counted in code points, which matches
 * Prettier for text without East Asian wide characters or emoji.
 */
function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = [header, ...rows].map((row) => row.map((cell) => cell.replace(/\|/g, '\\|')));
  const width = (cell: string): number => [...cell].length;
  const widths = header.map((_, col) => Math.max(3, ...cells.map((row) => width(row[col] ?? ''))));
  const line = (row: readonly string[]): string =>
    `| ${widths.map((w, col) => `${row[col] ?? ''}${' '.repeat(w - width(row[col] ?? ''))}`).join(' | ')} |`;
  const [head = [], ...body] = cells;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
