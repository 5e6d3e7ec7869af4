import { spawnService } from '../helpers/process.js';
import { describeAcrossProcesses } from './processes-scenario.js';

/** The same scenario with REDIS_URL set: @socket.io/redis-emitter → @socket.io/redis-adapter. */
describeAcrossProcesses('redis');

describe('REDIS_URL', () => {
  it('a bad one stops the process at boot with a message naming it', async () => {
    const service = spawnService({
      APP_ROLE: 'api',
      REDIS_URL: 'http://127.0.0.1:6379',
      DEVNET_ENABLED: 'false',
    });
    expect(await service.exited).not.toBe(0);
    expect(service.output()).toMatch(/REDIS_URL must use redis: or rediss:/);
  });
});
