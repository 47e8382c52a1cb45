#!/usr/bin/env node
// A provisioner command (executable fixture) for control-plane/capacity/command-provisioner.test.ts: the protocol of
// docs/control-plane/capacity.md over fake replicas kept in the JSON file $FAKE_PROVISIONER_STATE.
// $FAKE_PROVISIONER_MODE makes it misbehave: fail (stderr, exit 2), bad-json, wrong-shape, hang,
// hang-hard (ignores SIGTERM), chatty (more stdout than allowed).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const stateFile = process.env.FAKE_PROVISIONER_STATE;
if (!stateFile) {
  process.stderr.write('FAKE_PROVISIONER_STATE is not set\n');
  process.exit(64);
}
const state = existsSync(stateFile)
  ? JSON.parse(readFileSync(stateFile, 'utf8'))
  : { next: 0, replicas: [], calls: [] };
const [verb, ...args] = process.argv.slice(2);
state.calls.push([verb, ...args]);
const save = () => writeFileSync(stateFile, JSON.stringify(state));
save();

const mode = process.env.FAKE_PROVISIONER_MODE ?? '';
if (mode === 'fail') {
  process.stderr.write('x'.repeat(5000) + '\nError from server (Forbidden): deployments.apps is forbidden\n');
  process.exit(2);
}
// Output then a natural exit: process.exit() could cut a write to a pipe short.
if (mode === 'bad-json') {
  process.stdout.write('deployment.apps/coder-0 created\n');
} else if (mode === 'wrong-shape') {
  process.stdout.write(JSON.stringify({ id: 5, state: 'running' }));
} else if (mode === 'chatty') {
  process.stdout.write('{' + ' '.repeat(2 * 1024 * 1024) + '}');
} else if (mode === 'hang' || mode === 'hang-hard') {
  if (mode === 'hang-hard') process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\n'));
  process.stderr.write('waiting for the rollout\n');
  setInterval(() => undefined, 1000);
} else {
  run();
}

function find(id) {
  const r = state.replicas.find((x) => x.id === id);
  if (!r) {
    process.stderr.write(`no replica ${id}\n`);
    process.exit(3);
  }
  return r;
}

function run() {
  switch (verb) {
    case 'list':
      process.stdout.write(JSON.stringify({ replicas: state.replicas }));
      break;
    case 'provision': {
      const [agent, model] = args;
      const n = state.next++;
      const r = { id: `${agent}-${n}`, model, baseUrl: `http://127.0.0.1:${9000 + n}/v1`, state: 'loading', agent };
      state.replicas.push(r);
      save();
      process.stdout.write(JSON.stringify(r) + '\n');
      break;
    }
    case 'when-serving': {
      const r = find(args[0]);
      r.state = 'serving';
      save();
      process.stdout.write(JSON.stringify(r));
      break;
    }
    case 'kill':
      find(args[0]);
      state.replicas = state.replicas.filter((x) => x.id !== args[0]);
      save();
      break;
    case 'reassign': {
      const r = find(args[0]);
      if (r.state !== 'serving') {
        process.stderr.write(`replica ${r.id} is ${r.state}\n`);
        process.exit(4);
      }
      // reassign <id> <model> <agent>: the replica now serves the agent (its engine restarted with its settings).
      r.model = args[1];
      if (args[2] !== undefined) r.agent = args[2];
      save();
      break;
    }
    default:
      process.stderr.write(`unknown verb ${verb}\n`);
      process.exit(64);
  }
}
