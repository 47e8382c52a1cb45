// Lints code snippets as if they were files of the project, with the project's real ESLint config.
// Reads [{ file, code }] as JSON on stdin, writes [{ file, errors: ["rule: message"] }] as JSON on stdout.
// One process for all snippets, because building the type-aware program is the slow part.
import { ESLint } from 'eslint';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const eslint = new ESLint();
const out = [];
for (const { file, code } of JSON.parse(input)) {
  const [result] = await eslint.lintText(code, { filePath: file });
  out.push({ file, errors: (result?.messages ?? []).map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`) });
}
process.stdout.write(JSON.stringify(out));
