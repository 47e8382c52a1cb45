/** NALAR_PROVISIONER selection from a real loaded configuration. */
import { loadConfig } from '../../common/config';
import { ErrorCode, hasErrorCode } from '../../common/errors';
import { CommandProvisioner } from './command-provisioner';
import { createProvisioner, provisionerKind } from './create-provisioner';
import { SimProvisioner } from './sim-provisioner';

const config = (env: Record<string, string>) => loadConfig({ env, cwd: '/srv/nalar' });

test('unset, it is sim when the embedded simulator runs, else none', () => {
  expect(provisionerKind(config({}))).toBe('sim');
  expect(provisionerKind(config({ NALAR_SIM: 'false' }))).toBe('none');
  expect(provisionerKind(config({ NALAR_SIM: 'false', NALAR_PROVISIONER: 'command' }))).toBe('command');
  expect(() => config({ NALAR_PROVISIONER: 'kubernetes' })).toThrow(/NALAR_PROVISIONER/);
});

test('builds the configured backend, with NALAR_PROVISIONER_TIMEOUT and the admin token', () => {
  expect(createProvisioner(config({ NALAR_PROVISIONER: 'none' }))).toBeUndefined();
  const sim = createProvisioner(config({ NALAR_SIM_ADMIN_TOKEN: 'secret-token-123' }), {
    simAdminUrl: 'http://127.0.0.1:8199',
  });
  expect(sim).toBeInstanceOf(SimProvisioner);
  expect(sim?.name).toBe('sim');
  const command = createProvisioner(
    config({
      NALAR_PROVISIONER: 'command',
      NALAR_PROVISIONER_COMMAND: '/usr/local/bin/provision',
      NALAR_PROVISIONER_TIMEOUT: '20 minutes',
    }),
  );
  expect(command).toBeInstanceOf(CommandProvisioner);
});

test('a backend without what it needs is a configuration error', () => {
  const noUrl = () => createProvisioner(config({}));
  expect(noUrl).toThrow(/admin API/);
  const noCommand = () => createProvisioner(config({ NALAR_PROVISIONER: 'command' }));
  expect(noCommand).toThrow(/NALAR_PROVISIONER_COMMAND/);
  try {
    noCommand();
  } catch (err) {
    expect(hasErrorCode(err, ErrorCode.CONFIG_INVALID)).toBe(true);
  }
});
