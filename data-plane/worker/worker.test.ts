/** What a worker registers: the user's activities, agent/tool methods and the framework's own, never twice. */
import { ErrorCode, hasErrorCode } from '../../common/errors';
import { defineTool } from '../../stubs/define';
import { registeredActivities } from './worker';

const echo = defineTool({ name: 'echo', methods: { say: async (x: string) => x } });

test("the framework's session-move activity is registered next to the user's own activities", () => {
  const names = Object.keys(registeredActivities({ myActivity: async () => 1 }, [echo]));
  expect(names.sort()).toEqual(['echo.say', 'myActivity', 'transferSessionOwnership']);
});

test('an activity registered twice is a definition error naming both sources', () => {
  const err = (() => {
    try {
      registeredActivities({ transferSessionOwnership: async () => 1 }, []);
    } catch (e) {
      return e;
    }
  })();
  expect(hasErrorCode(err, ErrorCode.DEFINITION_INVALID)).toBe(true);
  expect((err as Error).message).toBe(
    "activity transferSessionOwnership is registered twice (activities and Nalar's own activities): rename one of them",
  );
});
