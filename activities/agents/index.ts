/** Every agent and tool definition; the worker registers their methods as `<name>.<method>` activities. */
import type { Definition } from '../../stubs/define';
import { analyst, bondMarket, marketResearch, newsSearch, newsWire, stockAnalysis } from './analyst';
import { chat } from './chat';
import { library, researcher } from './researcher';
import { chatBranch, classifier, codeRunner, coder } from './router';
import { developer, planner, sweTools, tester } from './swe';
import { textTools } from './text-tools';
import { writer } from './writer';

export const definitions: readonly Definition[] = [
  analyst,
  bondMarket,
  chat,
  chatBranch,
  classifier,
  codeRunner,
  coder,
  developer,
  library,
  marketResearch,
  newsSearch,
  newsWire,
  planner,
  researcher,
  stockAnalysis,
  sweTools,
  tester,
  textTools,
  writer,
];
