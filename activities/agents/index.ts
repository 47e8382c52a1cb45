/** Every agent and tool definition; the worker registers their methods as `<name>.<method>` activities. */
import type { Definition } from '../../stubs/define';
import { analyst, bondMarket, marketResearch, newsSearch, newsWire, stockAnalysis } from './analyst';
import { chat } from './chat';
import { library, researcher } from './researcher';
import { textTools } from './text-tools';
import { writer } from './writer';

export const definitions: readonly Definition[] = [
  analyst,
  bondMarket,
  chat,
  library,
  marketResearch,
  newsSearch,
  newsWire,
  researcher,
  stockAnalysis,
  textTools,
  writer,
];
