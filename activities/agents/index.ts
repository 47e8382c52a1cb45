/** Every agent and tool definition; the worker registers their methods as `<name>.<method>` activities. */
import type { Definition } from '../../stubs/define';
import { chat } from './chat';
import { library, researcher } from './researcher';
import { chatBranch, classifier, codeRunner, coder } from './router';
import { textTools } from './text-tools';
import { writer } from './writer';

export const definitions: readonly Definition[] = [
  chat,
  chatBranch,
  classifier,
  codeRunner,
  coder,
  library,
  researcher,
  textTools,
  writer,
];
