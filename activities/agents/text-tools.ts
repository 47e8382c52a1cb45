/** Small deterministic text tools: building blocks of examples and tests of the programming model. */
import { defineTool } from '../../stubs/define';

export interface TextInput {
  text: string;
}

export interface JoinInput {
  parts: string[];
  separator?: string;
}

export const textTools = defineTool({
  name: 'textTools',
  directives: { batchable: true, minInstances: 1, maxInstances: 4 },
  startToCloseTimeout: '10 seconds',
  methods: {
    /** Upper-cases the text. */
    async shout(input: TextInput): Promise<string> {
      return input.text.toUpperCase();
    },
    /** Counts the words of the text. */
    async countWords(input: TextInput): Promise<number> {
      return input.text.trim() === '' ? 0 : input.text.trim().split(/\s+/).length;
    },
    /** Joins parts with a separator (default a space). */
    async join(input: JoinInput): Promise<string> {
      return input.parts.join(input.separator ?? ' ');
    },
  },
});
