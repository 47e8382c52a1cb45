/**
 * The Kubernetes examples (deploy/kubernetes/) stay in step with the code: the ScaledObject's trigger uses
 * exactly the metadata keys the scaler accepts, ports agree from container to Service to scaler address and
 * with the settings, every variable the pods set is a Nalar or Temporal setting, and secrets come only from
 * Secrets. No YAML parser is a dependency, so the manifests keep to the block subset read here (maps, lists,
 * plain or quoted scalars, comments, `---`), and this reader fails loudly on anything else.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { configDefaults, settings } from '../../common/config';
import { acceptedMetadataKeys, kedaConnectionKeys, tokenKey } from './metadata';

type Yaml = string | Yaml[] | { [key: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  at: string;
}

/** Drops a trailing ` # comment` outside quotes. */
function stripComment(text: string): string {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || text[i - 1] === ' ')) return text.slice(0, i).trimEnd();
  }
  return text;
}

function scalar(raw: string, at: string): string {
  if (/^'.*'$/.test(raw)) return raw.slice(1, -1).replace(/''/g, "'");
  if (/^".*"$/.test(raw)) return JSON.parse(raw) as string;
  if (/^[[{|>&*!]/.test(raw)) throw new Error(`${at}: '${raw}' is beyond the YAML subset the manifests keep to`);
  return raw;
}

/** The documents of a manifest file, in the block subset of YAML. */
function parseYaml(text: string, file: string): Yaml[] {
  return text
    .split(/^---\s*$/m)
    .map((doc, d) => {
      const lines: Line[] = [];
      doc.split('\n').forEach((raw, n) => {
        const content = stripComment(raw);
        if (content.trim() === '') return;
        const at = `${file} document ${d + 1} line ${n + 1}`;
        let indent = content.length - content.trimStart().length;
        let rest = content.trim();
        // `- key: value` is a list item whose map starts on the same line: split it into `-` and the map.
        while (rest.startsWith('- ')) {
          lines.push({ indent, text: '-', at });
          indent += 2;
          rest = rest.slice(2).trimStart();
        }
        lines.push({ indent, text: rest, at });
      });
      let pos = 0;
      const node = (minIndent: number): Yaml => {
        const first = lines[pos];
        if (!first || first.indent < minIndent) return '';
        const indent = first.indent;
        if (first.text === '-') {
          const list: Yaml[] = [];
          while (lines[pos]?.indent === indent && lines[pos]?.text === '-') {
            pos++;
            list.push(node(indent + 1));
          }
          return list;
        }
        if (!/^[A-Za-z0-9_./-]+:(\s|$)/.test(first.text)) {
          pos++;
          return scalar(first.text, first.at); // a list item that is a scalar
        }
        const map: Record<string, Yaml> = {};
        while (lines[pos] && lines[pos]!.indent === indent && lines[pos]!.text !== '-') {
          const line = lines[pos]!;
          const m = /^([A-Za-z0-9_./-]+):(?:\s+(.*))?$/.exec(line.text);
          if (!m) throw new Error(`${line.at}: expected 'key: value', got '${line.text}'`);
          pos++;
          const key = m[1] as string;
          if (key in map) throw new Error(`${line.at}: duplicate key ${key}`);
          if (m[2] !== undefined) map[key] = scalar(m[2], line.at);
          // A list may sit at its key's indent (`key:\n- a`), as kubectl writes it.
          else if (lines[pos]?.indent === indent && lines[pos]?.text === '-') map[key] = node(indent);
          else map[key] = node(indent + 1);
        }
        const stray = lines[pos];
        if (stray && stray.indent > indent) throw new Error(`${stray.at}: unexpected indentation`);
        return map;
      };
      const value = node(0);
      if (pos < lines.length) throw new Error(`${lines[pos]!.at}: not read (bad indentation?)`);
      return value;
    })
    .filter((doc) => doc !== '');
}

const dir = path.resolve(__dirname, '..', '..', 'deploy', 'kubernetes');
const objects = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseYaml(readFileSync(path.join(dir, f), 'utf8'), f)) as Record<string, Yaml>[];

/** Reads a path of keys and list indexes, failing with the path when it is missing. */
function get(value: Yaml | undefined, ...keys: (string | number)[]): Yaml {
  let v = value;
  for (const k of keys) {
    v =
      Array.isArray(v) && typeof k === 'number' ? v[k] : !Array.isArray(v) && typeof v === 'object' ? v[k] : undefined;
    if (v === undefined) throw new Error(`missing ${keys.join('.')}`);
  }
  return v as Yaml;
}

const list = (v: Yaml): Yaml[] => (Array.isArray(v) ? v : []);
const map = (v: Yaml): Record<string, Yaml> => (typeof v === 'object' && !Array.isArray(v) ? v : {});

function find(kind: string, name: string): Record<string, Yaml> {
  const found = objects.find((o) => o.kind === kind && map(get(o, 'metadata')).name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found;
}

const containerOf = (deployment: Record<string, Yaml>) =>
  map(get(deployment, 'spec', 'template', 'spec', 'containers', 0));
const envOf = (deployment: Record<string, Yaml>) => list(get(containerOf(deployment), 'env')).map(map);
const envValue = (deployment: Record<string, Yaml>, name: string) =>
  envOf(deployment).find((e) => e.name === name)?.value;
const containerPort = (deployment: Record<string, Yaml>, name: string) =>
  list(get(containerOf(deployment), 'ports'))
    .map(map)
    .find((p) => p.name === name)?.containerPort;

const controller = find('Deployment', 'nalar-controller');
const service = find('Service', 'nalar-controller');
const worker = find('Deployment', 'nalar-worker');
const scaledObject = find('ScaledObject', 'nalar-worker');
const trigger = map(get(scaledObject, 'spec', 'triggers', 0));
const triggerMetadata = map(get(trigger, 'metadata'));

/** The port the manifests give the KEDA scaler, as NALAR_KEDA_PORT's documentation states it. */
const documentedKedaPort = /deploy\/kubernetes uses (\d+)/.exec(settings.kedaPort.doc)?.[1];

test('the reader takes the subset and refuses the rest', () => {
  expect(parseYaml('a: 1\nb:\n  - x: \'2\'\n    y: "3" # c\n  - z\nc:\n- d\n', 't')).toEqual([
    { a: '1', b: [{ x: '2', y: '3' }, 'z'], c: ['d'] },
  ]);
  expect(() => parseYaml('a: [1, 2]\n', 't')).toThrow(/beyond the YAML subset/);
  expect(() => parseYaml('a: 1\n   b: 2\n', 't')).toThrow(/indentation/);
});

test("the ScaledObject's trigger metadata uses exactly the keys the scaler accepts", () => {
  expect(get(trigger, 'type')).toBe('external-push');
  const keys = Object.keys(triggerMetadata).sort();
  // Every key the scaler reads, less the optional ones this example leaves out (one agent, KEDA's TLS switches).
  const unused = ['agent', ...kedaConnectionKeys.filter((k) => k !== 'scalerAddress')];
  expect(keys).toEqual(acceptedMetadataKeys.filter((k) => !unused.includes(k)).sort());
  expect(triggerMetadata.taskQueue).toBe(envValue(worker, 'NALAR_TASK_QUEUE'));
  expect(Number(triggerMetadata.targetPerWorker)).toBeGreaterThan(0);
  // The token is forwarded from the worker's environment, which reads it from a Secret.
  expect(triggerMetadata[tokenKey]).toBe('NALAR_CONTROL_TOKEN');
  expect(get(scaledObject, 'spec', 'scaleTargetRef', 'name')).toBe('nalar-worker');
  const min = Number(get(scaledObject, 'spec', 'minReplicaCount'));
  expect(Number.isInteger(min) && min >= 0).toBe(true);
  expect(Number(get(scaledObject, 'spec', 'maxReplicaCount'))).toBeGreaterThan(min);
  expect(Number(get(scaledObject, 'spec', 'cooldownPeriod'))).toBeGreaterThan(0);
  expect(map(get(worker, 'spec')).replicas).toBeUndefined(); // KEDA owns the count
});

test('ports agree: settings, container ports, Service, scaler address, worker link', () => {
  expect(documentedKedaPort).toBeDefined();
  const http = String(configDefaults.controllerPort);
  const keda = documentedKedaPort as string;
  expect(envValue(controller, 'NALAR_CONTROLLER_PORT')).toBe(http);
  expect(envValue(controller, 'NALAR_KEDA_PORT')).toBe(keda);
  expect(containerPort(controller, 'http')).toBe(http);
  expect(containerPort(controller, 'keda')).toBe(keda);
  const servicePorts = list(get(service, 'spec', 'ports')).map(map);
  expect(servicePorts.map((p) => [p.name, p.port, p.targetPort])).toEqual([
    ['http', http, 'http'],
    ['keda', keda, 'keda'],
  ]);
  expect(get(service, 'spec', 'selector')).toEqual({
    'app.kubernetes.io/name': get(controller, 'spec', 'template', 'metadata', 'labels', 'app.kubernetes.io/name'),
  });
  expect(triggerMetadata.scalerAddress).toBe(`nalar-controller:${keda}`);
  expect(envValue(worker, 'NALAR_CONTROLLER_URL')).toBe(`http://nalar-controller:${http}`);
  // Reachable from other pods, hence bound beyond loopback, hence a token (the scaler's own rule).
  expect(envValue(controller, 'NALAR_KEDA_HOST')).toBe('0.0.0.0');
});

test('every variable the pods set is a setting, and secrets come only from Secrets', () => {
  const known = new Set(Object.values(settings).map((s) => s.env));
  const secret = ['NALAR_CONTROL_TOKEN', 'NALAR_REDIS_URL'];
  for (const deployment of [controller, worker]) {
    for (const e of envOf(deployment)) {
      expect([e.name, known.has(String(e.name))]).toEqual([e.name, true]);
      if (secret.includes(String(e.name))) {
        expect([e.name, e.value, map(map(e.valueFrom ?? '').secretKeyRef ?? '').name]).toEqual([
          e.name,
          undefined,
          expect.any(String),
        ]);
      }
    }
  }
  for (const file of readdirSync(dir)) {
    expect([file, /kind:\s*Secret\b/.test(readFileSync(path.join(dir, file), 'utf8'))]).toEqual([file, false]);
  }
});
