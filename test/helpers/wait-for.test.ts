import { waitFor } from './wait-for';

test('resolves with the first truthy value of the condition, sync or async', async () => {
  let checks = 0;
  await expect(waitFor(() => ++checks >= 3 && `after ${checks} checks`, { what: 'three checks' })).resolves.toBe(
    'after 3 checks',
  );
  await expect(waitFor(async () => ({ ready: true }), { what: 'an object' })).resolves.toEqual({ ready: true });
});

test('fails after its deadline, saying what did not happen', async () => {
  let checks = 0;
  const never = waitFor(() => void checks++, { what: () => `the impossible (${checks} checks)`, timeoutMs: 50 });
  await expect(never).rejects.toThrow(/^timed out after 50 ms waiting for the impossible \(\d+ checks\)$/);
  expect(checks).toBeGreaterThan(1);
});

test('fails at once with what the condition throws', async () => {
  let checks = 0;
  const broken = waitFor(
    () => {
      checks++;
      throw new Error('the process exited');
    },
    { what: 'a line of output' },
  );
  await expect(broken).rejects.toThrow('the process exited');
  expect(checks).toBe(1);
});
