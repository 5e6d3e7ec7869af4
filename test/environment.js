// Jest test environment: Node's, plus the quiet-log contract of test/quiet-logs.ts — what the code
// under test logged through Nest's Logger is kept per test and printed only when that test fails.
import { TestEnvironment } from 'jest-environment-node';

export default class QuietLogsEnvironment extends TestEnvironment {
  async handleTestEvent(event) {
    if (event.name === 'test_start') this.global.__TEST_LOGS__ = [];
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') {
      const lines = this.global.__TEST_LOGS__ ?? [];
      if (lines.length > 0) {
        const title = event.test?.name ?? event.hook?.type ?? '';
        process.stderr.write(
          `\n--- logs of the failing ${title ? `"${title}"` : 'hook'} (last ${lines.length}) ---\n${lines.join('\n')}\n---\n`,
        );
      }
    }
  }
}
