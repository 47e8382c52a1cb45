/** Every agent and tool definition; the worker registers their methods as `<name>.<method>` activities. */
import type { Definition } from '../../stubs/define';
import { chat } from './chat';
import { library, researcher } from './researcher';
import { chatBranch, classifier, codeRunner, coder } from './router';
import { developer, planner, sweTools, tester } from './swe';
import { textTools } from './text-tools';
import { writer } from './writer';

export const definitions: readonly Definition[] = [
  chat,
  chatBranch,
  classifier,
  codeRunner,
  coder,
  developer,
  library,
  planner,
  researcher,
  sweTools,
  tester,
  textTools,
  writer,
];
