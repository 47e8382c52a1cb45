import { isLoopback } from './loopback';

test('loopback names and addresses, a peer seen as an IPv4-mapped address included; nothing else', () => {
  expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
  expect(['0.0.0.0', '10.0.0.5', '::', '::ffff:10.0.0.5', '128.0.0.1'].some(isLoopback)).toBe(false);
});
